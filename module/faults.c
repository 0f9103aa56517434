// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults and errors: the event queue, and the interrupts of events and
 * global errors.
 *
 * Events are consumed by a threaded handler (it may look up the master of a
 * stream under smmuv3_device.streams_mutex), which yields between records;
 * global errors are handled in hard interrupt context by
 * smmuv3_handle_gerror() (cmdq.c, where command-queue waiters that find the
 * queue stopped call it too).  Every message is ratelimited: a device can
 * raise events as fast as it can issue DMA.
 *
 * Events of a device attached to a nested domain go to its vIOMMU's
 * vEVENTQ only when they are the guest's: see smmuv3_event_for_guest().
 * Every other event is the host's, logged and counted here.
 */
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

static const char * const smmuv3_event_names[] = {
	[SMMUV3_EVT_F_UUT] = "F_UUT",
	[SMMUV3_EVT_C_BAD_STREAMID] = "C_BAD_STREAMID",
	[SMMUV3_EVT_F_STE_FETCH] = "F_STE_FETCH",
	[SMMUV3_EVT_C_BAD_STE] = "C_BAD_STE",
	[SMMUV3_EVT_F_BAD_ATS_TREQ] = "F_BAD_ATS_TREQ",
	[SMMUV3_EVT_F_STREAM_DISABLED] = "F_STREAM_DISABLED",
	[SMMUV3_EVT_F_TRANSL_FORBIDDEN] = "F_TRANSL_FORBIDDEN",
	[SMMUV3_EVT_C_BAD_SUBSTREAMID] = "C_BAD_SUBSTREAMID",
	[SMMUV3_EVT_F_CD_FETCH] = "F_CD_FETCH",
	[SMMUV3_EVT_C_BAD_CD] = "C_BAD_CD",
	[SMMUV3_EVT_F_WALK_EABT] = "F_WALK_EABT",
	[SMMUV3_EVT_F_TRANSLATION] = "F_TRANSLATION",
	[SMMUV3_EVT_F_ADDR_SIZE] = "F_ADDR_SIZE",
	[SMMUV3_EVT_F_ACCESS] = "F_ACCESS",
	[SMMUV3_EVT_F_PERMISSION] = "F_PERMISSION",
	[SMMUV3_EVT_F_TLB_CONFLICT] = "F_TLB_CONFLICT",
	[SMMUV3_EVT_F_CFG_CONFLICT] = "F_CFG_CONFLICT",
	[SMMUV3_EVT_E_PAGE_REQUEST] = "E_PAGE_REQUEST",
	[SMMUV3_EVT_F_VMS_FETCH] = "F_VMS_FETCH",
};

/**
 * smmuv3_event_name() - name of an event type
 * @id: the event record's type field
 *
 * Return: the architected name, or NULL for an unknown type.
 */
const char *smmuv3_event_name(u8 id)
{
	return id < ARRAY_SIZE(smmuv3_event_names) ? smmuv3_event_names[id] : NULL;
}

/* Faults that describe a transaction: they carry an address. */
static bool smmuv3_event_has_addr(u8 id)
{
	switch (id) {
	case SMMUV3_EVT_F_TRANSLATION:
	case SMMUV3_EVT_F_ADDR_SIZE:
	case SMMUV3_EVT_F_ACCESS:
	case SMMUV3_EVT_F_PERMISSION:
	case SMMUV3_EVT_F_TRANSL_FORBIDDEN:
	case SMMUV3_EVT_F_WALK_EABT:
	case SMMUV3_EVT_F_TLB_CONFLICT:
	case SMMUV3_EVT_F_UUT:
		return true;
	default:
		return false;
	}
}

/**
 * smmuv3_event_for_guest() - is an event of a nested device the guest's
 * @evt: the event record, in CPU order
 *
 * A guest owns the stage-1 configuration of a nested device: the
 * substream-to-CD selection (S1CDMax, S1DSS), its CDs and its stage-1
 * tables, all in its own memory.  The events it can act on are those of
 * that configuration, the ones the uapi lists for a vEVENTQ:
 * F_STREAM_DISABLED (S1DSS terminates traffic without a substream),
 * C_BAD_SUBSTREAMID, C_BAD_CD, C_BAD_STE (the physical STE carries the
 * guest's stage-1 fields: S1ContextPtr, S1CDMax, S1DSS and the rest of its
 * first two words; the kernel's driver forwards it too), and F_TRANSLATION,
 * F_ADDR_SIZE, F_ACCESS and F_PERMISSION of stage 1.  Everything else is
 * the host's:
 *
 *  - any record with EVT1.S2 set: a stage-2 fault, in the host's table,
 *    whatever stage-1 access (CLASS: CD fetch, table walk or input) it
 *    happened on; it carries an IPA the guest has no translation for;
 *  - external aborts (F_WALK_EABT, F_CD_FETCH: their address is a physical
 *    one), TLB and configuration conflicts, and stream, ATS, stall and
 *    page-request events, which this driver neither exposes nor enables.
 *
 * Return: true if the event belongs in the guest's vEVENTQ.
 */
bool smmuv3_event_for_guest(const u64 *evt)
{
	if (evt[1] & SMMUV3_EVT1_S2)
		return false;
	switch (FIELD_GET(SMMUV3_EVT0_ID, evt[0])) {
	case SMMUV3_EVT_F_STREAM_DISABLED:
	case SMMUV3_EVT_C_BAD_STE:
	case SMMUV3_EVT_C_BAD_SUBSTREAMID:
	case SMMUV3_EVT_C_BAD_CD:
	case SMMUV3_EVT_F_TRANSLATION:
	case SMMUV3_EVT_F_ADDR_SIZE:
	case SMMUV3_EVT_F_ACCESS:
	case SMMUV3_EVT_F_PERMISSION:
		return true;
	default:
		return false;
	}
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_event_for_guest);

static void smmuv3_handle_event(struct smmuv3_device *smmu, const u64 *evt)
{
	u8 id = FIELD_GET(SMMUV3_EVT0_ID, evt[0]);
	u32 sid = FIELD_GET(SMMUV3_EVT0_SID, evt[0]);
	const char *name = smmuv3_event_name(id);
	struct smmuv3_viommu *viommu = NULL;
	__le64 vevt[SMMUV3_EVT_QWORDS];
	struct smmuv3_master *master;
	char dev[48] = "unknown device";
	char ssid[16] = "-";

	atomic64_inc(&smmu->faults.events[id]);

	if (evt[0] & SMMUV3_EVT0_SSV)
		snprintf(ssid, sizeof(ssid), "%#llx",
			 FIELD_GET(SMMUV3_EVT0_SSID, evt[0]));

	mutex_lock(&smmu->streams_mutex);
	master = smmuv3_find_master(smmu, sid);
	if (master) {
		strscpy(dev, dev_name(master->dev), sizeof(dev));
		if (master->viommu && smmuv3_event_for_guest(evt))
			viommu = smmuv3_viommu_event_pin(master, evt, vevt);
	}
	mutex_unlock(&smmu->streams_mutex);

	/* The guest's to handle; the host log would only be noise. */
	if (viommu && !smmuv3_viommu_event_report(viommu, vevt)) {
		atomic64_inc(&smmu->faults.events_to_guest);
		dev_dbg_ratelimited(smmu->dev, "event %s (%#x) sid %#x for a vIOMMU\n",
				    name ?: "?", id, sid);
	} else if (smmuv3_event_has_addr(id))
		dev_err_ratelimited(smmu->dev,
				    "event %s (%#x) from %s sid %#x ssid %s: %s%s%s addr %#llx ipa %#llx\n",
				    name ?: "?", id, dev, sid, ssid,
				    evt[1] & SMMUV3_EVT1_RNW ? "read" : "write",
				    evt[1] & SMMUV3_EVT1_IND ? " insn" : "",
				    evt[1] & SMMUV3_EVT1_S2 ? " stage-2" : "",
				    evt[2],
				    evt[3] & SMMUV3_EVT3_IPA);
	else
		dev_err_ratelimited(smmu->dev,
				    "event %s (%#x) from %s sid %#x ssid %s: %#llx %#llx %#llx %#llx\n",
				    name ?: "?", id, dev, sid, ssid,
				    evt[0], evt[1], evt[2], evt[3]);
	/* A stalled transaction is always answered (stall.c). */
	smmuv3_stall_event(smmu, evt);
}

static irqreturn_t smmuv3_evtq_thread(int irq, void *data)
{
	struct smmuv3_device *smmu = data;
	struct smmuv3_queue *q = &smmu->evtq;
	u32 size = 1U << q->log2size;
	u32 mask = (2U << q->log2size) - 1;
	u32 cons = readl_relaxed(q->cons_reg);
	u32 prod;

	do {
		/* readl(): entries are read after PROD */
		prod = readl(q->prod_reg);
		if ((prod ^ cons) & SMMUV3_Q_OVF) {
			atomic64_inc(&smmu->faults.events_lost);
			dev_err_ratelimited(smmu->dev,
					    "event queue overflow: events lost\n");
		}
		while ((cons & mask) != (prod & mask)) {
			const __le64 *ent = q->base + (cons & (size - 1)) *
						      SMMUV3_EVT_QWORDS;
			u64 evt[SMMUV3_EVT_QWORDS];
			int i;

			for (i = 0; i < SMMUV3_EVT_QWORDS; i++)
				evt[i] = le64_to_cpu(ent[i]);
			cons = (cons & SMMUV3_Q_OVF) | ((cons + 1) & mask);
			/*
			 * The slot is free once copied: a full queue takes
			 * new records (stall records among them) while this
			 * one is handled.  The overflow is acknowledged below.
			 */
			mb();
			writel_relaxed(cons, q->cons_reg);
			smmuv3_handle_event(smmu, evt);
			/* A full queue is thousands of records. */
			cond_resched();
		}
		/* Acknowledge the overflow. */
		cons = (cons & mask) | (prod & SMMUV3_Q_OVF);
		writel_relaxed(cons, q->cons_reg);
	} while (readl_relaxed(q->prod_reg) != prod);

	return IRQ_HANDLED;
}

static irqreturn_t smmuv3_gerror_irq(int irq, void *data)
{
	smmuv3_handle_gerror(data);
	return IRQ_HANDLED;
}

static irqreturn_t smmuv3_combined_irq(int irq, void *data)
{
	smmuv3_handle_gerror(data);
	return IRQ_WAKE_THREAD;
}

/**
 * smmuv3_faults_init() - allocate the event queue
 * @smmu: the instance
 *
 * Return: 0 or -ENOMEM.
 */
int smmuv3_faults_init(struct smmuv3_device *smmu)
{
	/*
	 * 4096 entries (128KiB), the SMMU may allow fewer: one faulting 4KiB
	 * DMA of 4-byte accesses can raise 1024 events.
	 */
	return smmuv3_queue_alloc(smmu, &smmu->evtq,
				  min(smmu->feat.evtq_log2, 12),
				  SMMUV3_EVT_QWORDS, SMMUV3_PAGE1_OFFSET + SMMUV3_EVTQ_PROD,
				  SMMUV3_PAGE1_OFFSET + SMMUV3_EVTQ_CONS, "event");
}

/**
 * smmuv3_setup_irqs() - request the interrupts of an instance
 * @smmu: the instance, with IRQ_CTRL cleared
 *
 * MSIs where the SMMU and firmware allow them (msi.c); otherwise firmware
 * gives either one "combined" interrupt or separate "eventq" and "gerror"
 * ones (the PRI queue and CMD_SYNC interrupts are not used).  A missing
 * interrupt is not fatal: command-queue waiters handle global errors
 * themselves, only events go unreported.
 *
 * Return: 0 or a negative errno.
 */
int smmuv3_setup_irqs(struct smmuv3_device *smmu)
{
	struct device *dev = smmu->dev;
	int ret;

	smmuv3_msi_setup(smmu);
	if (smmu->irq_combined > 0)
		return devm_request_threaded_irq(dev, smmu->irq_combined,
						 smmuv3_combined_irq,
						 smmuv3_evtq_thread, IRQF_ONESHOT,
						 "smmuv3-combined", smmu);

	if (smmu->irq_evtq <= 0)
		dev_warn(dev, "no event queue interrupt: events are not reported\n");
	if (smmu->irq_gerror <= 0)
		dev_warn(dev, "no global error interrupt: command errors are found by polling\n");
	if (smmu->irq_evtq > 0) {
		ret = devm_request_threaded_irq(dev, smmu->irq_evtq, NULL,
						smmuv3_evtq_thread, IRQF_ONESHOT,
						"smmuv3-evtq", smmu);
		if (ret)
			return ret;
	}
	if (smmu->irq_gerror > 0)
		return devm_request_irq(dev, smmu->irq_gerror,
					smmuv3_gerror_irq, 0, "smmuv3-gerror",
					smmu);
	return 0;
}
