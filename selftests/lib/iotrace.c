// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU trace events through tracefs (see iotrace.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "iotrace.h"
#include "sysfs.h"

#define MAP_ENABLE	"events/iommu/map/enable"

static bool has_map_event(const char *dir)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/" MAP_ENABLE, dir);
	return path_exists(p);
}

int iotrace_start(struct iotrace *t, char *err, size_t errlen)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char p[PATH_MAX], on[8] = "";
	int ret;

	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < 2 && !t->dir[0]; i++)
		if (has_map_event(dirs[i]))
			snprintf(t->dir, sizeof(t->dir), "%s", dirs[i]);
	if (!t->dir[0] && path_exists(dirs[0]) &&
	    !mount("nodev", dirs[0], "tracefs", 0, NULL)) {
		t->mounted = true;
		if (has_map_event(dirs[0]))
			snprintf(t->dir, sizeof(t->dir), "%s", dirs[0]);
	}
	if (!t->dir[0]) {
		snprintf(err, errlen, "no tracefs with the iommu:map event (%s, %s; "
			 "CONFIG_EVENT_TRACING?)", dirs[0], dirs[1]);
		iotrace_stop(t);
		return -ENOENT;
	}
	snprintf(p, sizeof(p), "%s/tracing_on", t->dir);
	if (sysfs_read(p, on, sizeof(on)) >= 0 && strcmp(on, "1")) {
		snprintf(err, errlen, "%s is %s: tracing is off", p, on);
		iotrace_stop(t);
		return -ENODATA;
	}
	snprintf(p, sizeof(p), "%s/" MAP_ENABLE, t->dir);
	ret = sysfs_write(p, "1");
	if (ret) {
		snprintf(err, errlen, "enabling %s: %s", p, strerror(-ret));
		iotrace_stop(t);
		return ret;
	}
	t->enabled = true;
	ret = iotrace_clear(t);
	if (ret)
		snprintf(err, errlen, "clearing %s/trace: %s", t->dir, strerror(-ret));
	return ret;
}

int iotrace_clear(struct iotrace *t)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/trace", t->dir);
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int iotrace_count_map(struct iotrace *t, uint64_t iova, uint64_t paddr,
		      uint64_t size)
{
	char p[PATH_MAX], want[160], line[512];
	int n = 0;
	FILE *f;

	/* The event's TP_printk, with the event name before it. */
	snprintf(want, sizeof(want), " map: IOMMU: iova=0x%016llx - 0x%016llx "
		 "paddr=0x%016llx size=%llu", (unsigned long long)iova,
		 (unsigned long long)(iova + size), (unsigned long long)paddr,
		 (unsigned long long)size);
	snprintf(p, sizeof(p), "%s/trace", t->dir);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		if (strstr(line, want))
			n++;
	}
	fclose(f);
	return n;
}

void iotrace_stop(struct iotrace *t)
{
	char p[PATH_MAX];

	if (t->enabled) {
		snprintf(p, sizeof(p), "%s/" MAP_ENABLE, t->dir);
		sysfs_write(p, "0");
		t->enabled = false;
	}
	if (t->mounted) {
		umount(t->dir[0] ? t->dir : "/sys/kernel/tracing");
		t->mounted = false;
	}
}
