// SPDX-License-Identifier: GPL-2.0-only
/*
 * Our driver's debugfs files and module parameters (see debugfs.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debugfs.h"
#include "sysfs.h"

bool dbg_present(void)
{
	return path_exists(SMMUV3_DEBUGFS "/domains");
}

/* Call FN(key, value, arg) for each "key value" line of INST's stats. */
static int stats_walk(const char *inst,
		      void (*fn)(const char *key, uint64_t v, void *arg), void *arg)
{
	char path[PATH_MAX], line[256];
	FILE *f;

	snprintf(path, sizeof(path), SMMUV3_DEBUGFS "/%s/stats", inst);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sp, *end;
		uint64_t v;

		line[strcspn(line, "\n")] = '\0';
		sp = strrchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		errno = 0;
		v = strtoull(sp + 1, &end, 0);
		if (errno || end == sp + 1 || *end)
			continue;
		fn(line, v, arg);
	}
	fclose(f);
	return 0;
}

struct stat_query {
	const char *key;
	bool prefix;
	uint64_t sum;
};

static void stat_match(const char *key, uint64_t v, void *arg)
{
	struct stat_query *q = arg;

	if (q->prefix ? !strncmp(key, q->key, strlen(q->key)) : !strcmp(key, q->key))
		q->sum += v;
}

int dbg_stat(const char *inst, const char *key, uint64_t *val)
{
	struct stat_query q = { .key = key };
	int ret = stats_walk(inst, stat_match, &q);

	if (!ret)
		*val = q.sum;
	return ret;
}

int dbg_stat_prefix(const char *inst, const char *prefix, uint64_t *val)
{
	struct stat_query q = { .key = prefix, .prefix = true };
	int ret = stats_walk(inst, stat_match, &q);

	if (!ret)
		*val = q.sum;
	return ret;
}

int dbg_stat_wait(const char *inst, const char *key, uint64_t min, int timeout_ms,
		  uint64_t *val)
{
	uint64_t t0 = now_ms();
	int ret;

	for (;;) {
		ret = dbg_stat(inst, key, val);
		if (ret)
			return ret;
		if (*val >= min)
			return 0;
		if (now_ms() - t0 > (uint64_t)timeout_ms)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

int dbg_snap(const char *key, struct dbg_snap *s)
{
	struct strlist insts;
	int ret;

	memset(s, 0, sizeof(*s));
	strlist_init(&insts);
	ret = iommu_instances(&insts);
	if (ret < 0)
		goto out;
	ret = 0;
	for (int i = 0; i < insts.n && s->n < DBG_SNAP_MAX; i++) {
		snprintf(s->inst[s->n], sizeof(s->inst[0]), "%s", insts.v[i]);
		ret = dbg_stat(insts.v[i], key, &s->v[s->n]);
		if (ret)
			break;
		s->n++;
	}
out:
	strlist_free(&insts);
	return ret;
}

uint64_t dbg_snap_get(const struct dbg_snap *s, const char *inst)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->inst[i], inst))
			return s->v[i];
	return 0;
}

int dbg_domains_read(struct dbg_domains *out)
{
	struct dbg_domain *cur = NULL;
	char line[256];
	int ret = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	f = fopen(SMMUV3_DEBUGFS "/domains", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int id, type, iid, ssid, num = 0;
		const char *entries;
		char inst[64];
		int stage, users;

		if (sscanf(line, "domain %u stage %d", &id, &stage) == 2) {
			/* "domain ID stage S[ nest-parent] pgsize P entries N" */
			entries = strstr(line, " entries ");
			if (!entries || sscanf(entries, " entries %u", &num) != 1)
				ret = -EPROTO;
			if (out->n == DBG_MAX_DOMAINS) {
				cur = NULL;
				continue;
			}
			cur = &out->d[out->n++];
			cur->id = id;
			cur->stage = stage;
			cur->nest_parent = strstr(line, " nest-parent ") != NULL;
			cur->num = num;
		} else if (sscanf(line, " %63s type %u id %u ssid %u users %d",
				  inst, &type, &iid, &ssid, &users) == 5) {
			struct dbg_inv *inv;

			if (!cur || cur->n == DBG_MAX_INVS)
				continue;
			inv = &cur->inv[cur->n++];
			snprintf(inv->inst, sizeof(inv->inst), "%s", inst);
			inv->type = type;
			inv->id = iid;
			inv->ssid = ssid;
			inv->users = users;
		} else if (line[0] != '\n') {
			ret = -EPROTO;
		}
	}
	fclose(f);
	return ret;
}

const struct dbg_domain *dbg_domain_find(const struct dbg_domains *dd,
					 unsigned int id)
{
	for (int i = 0; i < dd->n; i++)
		if (dd->d[i].id == id)
			return &dd->d[i];
	return NULL;
}

int dbg_domains_new(const struct dbg_domains *before,
		    const struct dbg_domains *after, unsigned int *id)
{
	int found = 0;

	for (int i = 0; i < after->n; i++) {
		if (dbg_domain_find(before, after->d[i].id))
			continue;
		if (!found++)
			*id = after->d[i].id;
	}
	return !found ? -ENOENT : found > 1 ? -E2BIG : 0;
}

int dbg_domain_live(const struct dbg_domain *d, const char *inst, int type,
		    const struct dbg_inv **first)
{
	int n = 0;

	if (first)
		*first = NULL;
	for (int i = 0; d && i < d->n; i++) {
		const struct dbg_inv *inv = &d->inv[i];

		if (inv->users <= 0 || strcmp(inv->inst, inst))
			continue;
		if (type >= 0 && inv->type != (unsigned int)type)
			continue;
		if (!n++ && first)
			*first = inv;
	}
	return n;
}

int dbg_domain_named(const struct dbg_domain *d, const char *inst)
{
	int n = 0;

	for (int i = 0; d && i < d->n; i++)
		n += !strcmp(d->inv[i].inst, inst);
	return n;
}

const char *dbg_domain_str(const struct dbg_domain *d, char *buf, size_t len)
{
	size_t used;

	if (!d) {
		snprintf(buf, len, "(domain not listed)");
		return buf;
	}
	used = snprintf(buf, len, "domain %u stage %d%s:%s", d->id, d->stage,
			d->nest_parent ? " nest-parent" : "", d->n ? "" : " no entries");
	for (int i = 0; i < d->n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s %s type %u id %u users %d",
				 i ? "," : "", d->inv[i].inst, d->inv[i].type,
				 d->inv[i].id, d->inv[i].users);
	return buf;
}

int dbg_live_ids(const char *inst, unsigned int type, uint8_t *bitmap)
{
	struct dbg_domains *dd = malloc(sizeof(*dd));
	int ret, n = 0;

	if (!dd)
		return -ENOMEM;
	memset(bitmap, 0, DBG_IDS_MAX / 8);
	ret = dbg_domains_read(dd);
	if (ret) {
		free(dd);
		return ret;
	}
	for (int i = 0; i < dd->n; i++) {
		for (int j = 0; j < dd->d[i].n; j++) {
			const struct dbg_inv *inv = &dd->d[i].inv[j];

			if (inv->users <= 0 || inv->type != type || strcmp(inv->inst, inst))
				continue;
			if (inv->id >= DBG_IDS_MAX) {
				n++;
				continue;
			}
			if (!(bitmap[inv->id / 8] & (1u << (inv->id % 8)))) {
				bitmap[inv->id / 8] |= 1u << (inv->id % 8);
				n++;
			}
		}
	}
	free(dd);
	return n;
}

int dbg_build_feature(const char *feature, char *why, size_t len)
{
	size_t flen = strlen(feature);
	char line[256];
	int ret = -ENOENT;
	FILE *f;

	if (len)
		why[0] = 0;
	f = fopen(SMMUV3_DEBUGFS "/build", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *rest = line + flen;

		if (strncmp(line, feature, flen) || *rest != ' ')
			continue;
		rest++;
		rest[strcspn(rest, "\n")] = 0;
		if (!strcmp(rest, "yes")) {
			ret = 1;
		} else if (!strncmp(rest, "no", 2)) {
			rest += 2;
			rest += strspn(rest, " (");
			if (*rest && rest[strlen(rest) - 1] == ')')
				rest[strlen(rest) - 1] = 0;
			if (len)
				snprintf(why, len, "%s", rest);
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

int smmuv3_param_read(const char *name, uint64_t *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SMMUV3_PARAMS "/%s", name);
	return sysfs_read_u64(path, val);
}

int smmuv3_param_write(const char *name, uint64_t val)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), SMMUV3_PARAMS "/%s", name);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)val);
	return sysfs_write(path, buf);
}
