// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: /sys/kernel/debug/smmuv3/<instance>/
 *
 *   features  the decoded feature line and the raw ID registers
 *   stats     commands queued by opcode, CMD_SYNCs, timeouts, commands
 *             the SMMU rejected, failed invalidations, ASIDs and VMIDs in
 *             use and kept after a failed flush, events by type, global
 *             errors
 *   streams   stream ID, device and STE words of every probed stream
 *
 * and /sys/kernel/debug/smmuv3/domains: every paging domain with its
 * invalidation array (instance, type, ID, users); and
 * /sys/kernel/debug/smmuv3/build: the features that depend on the kernel,
 * one "<name> yes" or "<name> no (<why>)" line each (module/compat.c).
 *
 * Counters are read racily: they are statistics, not state.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include <smmuv3/smmuv3.h>

static struct dentry *smmuv3_debugfs_root;

static int smmuv3_features_show(struct seq_file *s, void *unused)
{
	struct smmuv3_device *smmu = s->private;
	char line[256];
	int i;

	smmuv3_format_features(&smmu->feat, line, sizeof(line));
	seq_printf(s, "%s\n", line);
	for (i = 0; i < ARRAY_SIZE(smmu->idregs.idr); i++)
		seq_printf(s, "idr%d %#010x\n", i, smmu->idregs.idr[i]);
	seq_printf(s, "iidr %#010x\naidr %#010x\n", smmu->idregs.iidr,
		   smmu->idregs.aidr);
	seq_printf(s, "strtab %s sid_bits %u\n",
		   smmu->strtab.two_level ? "2-level" : "linear",
		   smmu->strtab.sid_bits);
	seq_printf(s, "cmdq_entries %u\nevtq_entries %u\n",
		   1U << smmu->cmdq.q.log2size, 1U << smmu->evtq.log2size);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(smmuv3_features);

static const char *smmuv3_cmd_name(unsigned int op)
{
	switch (op) {
	case SMMUV3_OP_PREFETCH_CFG: return "PREFETCH_CONFIG";
	case SMMUV3_OP_CFGI_STE: return "CFGI_STE";
	case SMMUV3_OP_CFGI_ALL: return "CFGI_ALL";
	case SMMUV3_OP_CFGI_CD: return "CFGI_CD";
	case SMMUV3_OP_CFGI_CD_ALL: return "CFGI_CD_ALL";
	case SMMUV3_OP_TLBI_NH_ALL: return "TLBI_NH_ALL";
	case SMMUV3_OP_TLBI_NH_ASID: return "TLBI_NH_ASID";
	case SMMUV3_OP_TLBI_NH_VA: return "TLBI_NH_VA";
	case SMMUV3_OP_TLBI_NH_VAA: return "TLBI_NH_VAA";
	case SMMUV3_OP_TLBI_EL2_ALL: return "TLBI_EL2_ALL";
	case SMMUV3_OP_TLBI_EL2_ASID: return "TLBI_EL2_ASID";
	case SMMUV3_OP_TLBI_EL2_VA: return "TLBI_EL2_VA";
	case SMMUV3_OP_TLBI_S12_VMALL: return "TLBI_S12_VMALL";
	case SMMUV3_OP_TLBI_S2_IPA: return "TLBI_S2_IPA";
	case SMMUV3_OP_TLBI_NSNH_ALL: return "TLBI_NSNH_ALL";
	case SMMUV3_OP_ATC_INV: return "ATC_INV";
	case SMMUV3_OP_PRI_RESP: return "PRI_RESP";
	case SMMUV3_OP_RESUME: return "RESUME";
	case SMMUV3_OP_STALL_TERM: return "STALL_TERM";
	case SMMUV3_OP_SYNC: return "SYNC";
	default: return NULL;
	}
}

static int smmuv3_stats_show(struct seq_file *s, void *unused)
{
	struct smmuv3_device *smmu = s->private;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(smmu->cmdq.issued); i++) {
		u64 n = READ_ONCE(smmu->cmdq.issued[i]);
		const char *name = smmuv3_cmd_name(i);

		if (n && name)
			seq_printf(s, "cmd %s %llu\n", name, n);
		else if (n)
			seq_printf(s, "cmd %#x %llu\n", i, n);
	}
	seq_printf(s, "cmd_syncs %llu\n", READ_ONCE(smmu->cmdq.syncs));
	seq_printf(s, "cmd_timeouts %lld\n",
		   (s64)atomic64_read(&smmu->cmdq.timeouts));
	seq_printf(s, "cmd_errors %llu\n", READ_ONCE(smmu->cmdq.err_seq));
	seq_printf(s, "inv_failures %lld\n",
		   (s64)atomic64_read(&smmu->cmdq.inv_failures));
	for (i = 0; i < ARRAY_SIZE(smmu->faults.events); i++) {
		s64 n = atomic64_read(&smmu->faults.events[i]);

		if (n)
			seq_printf(s, "event %s %lld\n",
				   smmuv3_event_name(i) ?: "unknown", n);
	}
	seq_printf(s, "asids_used %d\nvmids_used %d\n",
		   atomic_read(&smmu->tags.asids_used),
		   atomic_read(&smmu->tags.vmids_used));
	seq_printf(s, "asids_leaked %d\nvmids_leaked %d\ntag_flush_failures %lld\n",
		   atomic_read(&smmu->tags.asids_leaked),
		   atomic_read(&smmu->tags.vmids_leaked),
		   (s64)atomic64_read(&smmu->tags.flush_failures));
	seq_printf(s, "events_lost %lld\n",
		   (s64)atomic64_read(&smmu->faults.events_lost));
	seq_printf(s, "events_to_guest %lld\n",
		   (s64)atomic64_read(&smmu->faults.events_to_guest));
	for (i = 0; i < ARRAY_SIZE(smmu->faults.gerrors); i++) {
		s64 n = atomic64_read(&smmu->faults.gerrors[i]);

		if (n)
			seq_printf(s, "gerror_bit%u %lld\n", i, n);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(smmuv3_stats);

static int smmuv3_streams_show(struct seq_file *s, void *unused)
{
	struct smmuv3_device *smmu = s->private;
	struct rb_node *node;

	mutex_lock(&smmu->streams_mutex);
	for (node = rb_first(&smmu->streams); node; node = rb_next(node)) {
		struct smmuv3_stream *stream =
			rb_entry(node, struct smmuv3_stream, node);
		__le64 *ste = smmuv3_strtab_ste(smmu, stream->sid);

		seq_printf(s, "%#x %s %016llx %016llx %016llx %016llx\n",
			   stream->sid, dev_name(stream->master->dev),
			   le64_to_cpu(READ_ONCE(ste[0])),
			   le64_to_cpu(READ_ONCE(ste[1])),
			   le64_to_cpu(READ_ONCE(ste[2])),
			   le64_to_cpu(READ_ONCE(ste[3])));
		/* Once per master, after the line of its first stream. */
		if (stream == &stream->master->streams[0]) {
			char ats[64];

			smmuv3_ats_describe(stream->master, ats, sizeof(ats));
			seq_printf(s, "\t%s %s\n",
				   dev_name(stream->master->dev), ats);
		}
	}
	mutex_unlock(&smmu->streams_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(smmuv3_streams);

static int smmuv3_domains_show(struct seq_file *s, void *unused)
{
	smmuv3_debugfs_domains_show(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(smmuv3_domains);

static int smmuv3_build_show(struct seq_file *s, void *unused)
{
	smmuv3_compat_show(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(smmuv3_build);

/**
 * smmuv3_debugfs_add() - create the directory of an instance
 * @smmu: the instance
 */
void smmuv3_debugfs_add(struct smmuv3_device *smmu)
{
	smmu->debugfs = debugfs_create_dir(smmu->name, smmuv3_debugfs_root);
	debugfs_create_file("features", 0444, smmu->debugfs, smmu,
			    &smmuv3_features_fops);
	debugfs_create_file("stats", 0444, smmu->debugfs, smmu,
			    &smmuv3_stats_fops);
	debugfs_create_file("streams", 0444, smmu->debugfs, smmu,
			    &smmuv3_streams_fops);
}

/**
 * smmuv3_debugfs_remove() - remove the directory of an instance
 * @smmu: the instance
 */
void smmuv3_debugfs_remove(struct smmuv3_device *smmu)
{
	debugfs_remove_recursive(smmu->debugfs);
	smmu->debugfs = NULL;
}

/** smmuv3_debugfs_init() - create /sys/kernel/debug/smmuv3 */
void smmuv3_debugfs_init(void)
{
	smmuv3_debugfs_root = debugfs_create_dir("smmuv3", NULL);
	debugfs_create_file("domains", 0444, smmuv3_debugfs_root, NULL,
			    &smmuv3_domains_fops);
	debugfs_create_file("build", 0444, smmuv3_debugfs_root, NULL,
			    &smmuv3_build_fops);
}

/** smmuv3_debugfs_exit() - remove /sys/kernel/debug/smmuv3 */
void smmuv3_debugfs_exit(void)
{
	debugfs_remove_recursive(smmuv3_debugfs_root);
}
