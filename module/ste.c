// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stream table entries: every STE this driver writes is composed here.
 *
 * The builders fill SMMUV3_STE_QWORDS little-endian words from a master,
 * a domain or a guest's STE; the setters adjust one field of a built STE
 * (EATS, S2S) for what the master can do; smmuv3_ste_fit() drops what the
 * instance does not implement; smmuv3_ste_get_used() says which bits the
 * SMMU interprets in a given STE (IHI 0070 5.2), for the hitless update.
 * Where an STE lives and how it reaches the SMMU is the stream table's
 * business (strtab.c, with the generic entry writer in entry_update.c).
 */
#include <linux/bitfield.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/**
 * smmuv3_ste_get_used() - the bits of an STE the SMMU interprets
 * @ste: the STE
 * @used: SMMUV3_STE_QWORDS words of result
 *
 * Per Config (IHI 0070 5.2): an invalid STE uses only V; abort only V and
 * Config; bypass adds SHCFG.  Stage 1 (Config S1 or nested) uses the CD
 * table fields, S1CIR/S1COR/S1CSH, S1STALLD, EATS, STRW, MEV, and S2VMID:
 * where stage 2 is implemented, the SMMU tags stage-1-only translations
 * with STE.S2VMID (always 0 here, the VMID that stage-1 invalidations
 * name), so a switch that changes it cannot be hitless.  S1DSS is read only
 * when the table has substreams (S1CDMax != 0), and SHCFG then too if
 * S1DSS is bypass.  Stage 2 (Config S2 or nested) uses S2FWB, EATS, SHCFG,
 * MEV and the stage-2 fields of words 2 and 3.
 *
 * Fields this driver never sets (the other attribute overrides, S2HD/S2HA,
 * words 4 to 7) are left out: they are 0 in every STE it writes.  S2VMID
 * and S2FWB count whether or not the instance implements stage 2 or FWB:
 * without them they are 0 in every STE, so they never decide anything.
 */
void smmuv3_ste_get_used(const __le64 *ste, __le64 *used)
{
	u64 w0 = le64_to_cpu(ste[0]);
	u64 w1 = le64_to_cpu(ste[1]);
	u32 cfg = FIELD_GET(SMMUV3_STE0_CFG, w0);
	bool s1 = cfg == SMMUV3_STE_CFG_S1 || cfg == SMMUV3_STE_CFG_NESTED;
	bool s2 = cfg == SMMUV3_STE_CFG_S2 || cfg == SMMUV3_STE_CFG_NESTED;
	u64 u[SMMUV3_STE_QWORDS] = { SMMUV3_STE0_V };
	int i;

	if (!(w0 & SMMUV3_STE0_V))
		goto out;

	u[0] |= SMMUV3_STE0_CFG;
	if (cfg == SMMUV3_STE_CFG_BYPASS)
		u[1] |= SMMUV3_STE1_SHCFG;
	if (s1) {
		u[0] |= SMMUV3_STE0_S1FMT | SMMUV3_STE0_S1CTXPTR |
			SMMUV3_STE0_S1CDMAX;
		u[1] |= SMMUV3_STE1_S1CIR | SMMUV3_STE1_S1COR |
			SMMUV3_STE1_S1CSH | SMMUV3_STE1_S1STALLD |
			SMMUV3_STE1_EATS | SMMUV3_STE1_STRW | SMMUV3_STE1_MEV;
		u[2] |= SMMUV3_STE2_S2VMID;
		if (FIELD_GET(SMMUV3_STE0_S1CDMAX, w0)) {
			u[1] |= SMMUV3_STE1_S1DSS;
			if (FIELD_GET(SMMUV3_STE1_S1DSS, w1) ==
			    SMMUV3_S1DSS_BYPASS)
				u[1] |= SMMUV3_STE1_SHCFG;
		}
	}
	if (s2) {
		u[1] |= SMMUV3_STE1_S2FWB | SMMUV3_STE1_EATS |
			SMMUV3_STE1_SHCFG | SMMUV3_STE1_MEV;
		u[2] |= SMMUV3_STE2_S2VMID | SMMUV3_STE2_VTCR |
			SMMUV3_STE2_S2AA64 | SMMUV3_STE2_S2ENDI |
			SMMUV3_STE2_S2AFFD | SMMUV3_STE2_S2PTW |
			SMMUV3_STE2_S2S | SMMUV3_STE2_S2R;
		u[3] |= SMMUV3_STE3_S2TTB;
	}
out:
	for (i = 0; i < SMMUV3_STE_QWORDS; i++)
		used[i] = cpu_to_le64(u[i]);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_get_used);

/**
 * smmuv3_ste_make_abort() - an STE that terminates all traffic silently
 * @ste: SMMUV3_STE_QWORDS words of result
 */
void smmuv3_ste_make_abort(__le64 *ste)
{
	memset(ste, 0, SMMUV3_STE_SIZE);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_ABORT));
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_make_abort);

/**
 * smmuv3_ste_make_bypass() - an STE that lets traffic through untranslated
 * @ste: SMMUV3_STE_QWORDS words of result
 */
void smmuv3_ste_make_bypass(__le64 *ste)
{
	memset(ste, 0, SMMUV3_STE_SIZE);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_BYPASS));
	ste[1] = cpu_to_le64(FIELD_PREP(SMMUV3_STE1_SHCFG,
					SMMUV3_SHCFG_INCOMING));
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_make_bypass);

/**
 * smmuv3_ste_make_s1() - an STE translating through the master's CD table
 * @ste: SMMUV3_STE_QWORDS words of result
 * @master: the master, with a CD table
 * @s1dss: what traffic without a substream does (STE.S1DSS, read by the
 *	SMMU only when the table has substreams, and left 0 in an STE
 *	whose table has none): SMMUV3_S1DSS_SSID0
 *	translates it through CD 0, the RID's stage-1 domain, and then
 *	substream 0 is refused; SMMUV3_S1DSS_BYPASS lets it through
 *	untranslated (the RID on the identity domain, with the attributes of
 *	a bypass STE); SMMUV3_S1DSS_TERMINATE aborts it (the RID blocked;
 *	unlike an aborting STE this records F_STREAM_DISABLED events)
 *
 * S2VMID stays 0: where stage 2 is implemented the SMMU tags stage-1-only
 * translations with it, and stage-1 invalidations (TLBI_NH_ASID/VA) name
 * VMID 0, which the VMID allocator never hands out.
 */
void smmuv3_ste_make_s1(__le64 *ste, const struct smmuv3_master *master,
			u8 s1dss)
{
	const struct smmuv3_cdtab *tab = master->cdtab;
	u64 w1;

	memset(ste, 0, SMMUV3_STE_SIZE);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_S1) |
			     FIELD_PREP(SMMUV3_STE0_S1FMT, tab->s1fmt) |
			     (tab->dma & SMMUV3_STE0_S1CTXPTR) |
			     FIELD_PREP(SMMUV3_STE0_S1CDMAX, tab->s1cdmax));
	w1 = FIELD_PREP(SMMUV3_STE1_S1CIR, SMMUV3_CACHE_WBRA) |
	     FIELD_PREP(SMMUV3_STE1_S1COR, SMMUV3_CACHE_WBRA) |
	     FIELD_PREP(SMMUV3_STE1_S1CSH, SMMUV3_SH_ISH) |
	     FIELD_PREP(SMMUV3_STE1_STRW, SMMUV3_STRW_NSEL1);
	/* Stalls stay off where they are optional (stall.c). */
	if (smmuv3_stall_s1stalld(master))
		w1 |= SMMUV3_STE1_S1STALLD;
	/*
	 * Without substreams (S1CDMax 0) the SMMU ignores S1DSS and sends
	 * all traffic through CD 0: the field stays 0 then, so that no
	 * later STE update has to clear a field the SMMU never read.
	 * Bypassed traffic takes SHCFG as a bypass STE has it, which also
	 * keeps the switch between the two forms hitless.
	 */
	if (tab->s1cdmax) {
		w1 |= FIELD_PREP(SMMUV3_STE1_S1DSS, s1dss);
		if (s1dss == SMMUV3_S1DSS_BYPASS)
			w1 |= FIELD_PREP(SMMUV3_STE1_SHCFG,
					 SMMUV3_SHCFG_INCOMING);
	}
	ste[1] = cpu_to_le64(w1);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_make_s1);

/**
 * smmuv3_ste_make_s2() - an STE translating through a stage-2 domain
 * @ste: SMMUV3_STE_QWORDS words of result
 * @domain: a stage-2 paging domain
 * @vmid: the domain's tag on the instance
 *
 * STE.S2FWB (word 1) is set when the domain's table uses the FWB attribute
 * format (IO_PGTABLE_QUIRK_ARM_S2FWB, only on instances with S2FWB).
 */
void smmuv3_ste_make_s2(__le64 *ste, const struct smmuv3_domain *domain,
			u16 vmid)
{
	const struct io_pgtable_cfg *cfg = &domain->pgtbl_cfg;
	typeof(cfg->arm_lpae_s2_cfg.vtcr) *vtcr = &cfg->arm_lpae_s2_cfg.vtcr;

	memset(ste, 0, SMMUV3_STE_SIZE);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_S2));
	/* A table in the FWB attribute format is decoded as such. */
	ste[1] = cpu_to_le64(FIELD_PREP(SMMUV3_STE1_SHCFG,
					SMMUV3_SHCFG_INCOMING) |
			     (cfg->quirks & SMMUV3_PGTABLE_S2FWB ?
			      SMMUV3_STE1_S2FWB : 0));
	ste[2] = cpu_to_le64(FIELD_PREP(SMMUV3_STE2_S2VMID, vmid) |
			     FIELD_PREP(SMMUV3_STE2_S2T0SZ, vtcr->tsz) |
			     FIELD_PREP(SMMUV3_STE2_S2SL0, vtcr->sl) |
			     FIELD_PREP(SMMUV3_STE2_S2IR0, vtcr->irgn) |
			     FIELD_PREP(SMMUV3_STE2_S2OR0, vtcr->orgn) |
			     FIELD_PREP(SMMUV3_STE2_S2SH0, vtcr->sh) |
			     FIELD_PREP(SMMUV3_STE2_S2TG, vtcr->tg) |
			     FIELD_PREP(SMMUV3_STE2_S2PS, vtcr->ps) |
			     SMMUV3_STE2_S2AA64 | SMMUV3_STE2_S2PTW |
			     SMMUV3_STE2_S2R |
			     /* io-pgtable writes it in the CPU's order */
			     (IS_ENABLED(CONFIG_CPU_BIG_ENDIAN) ?
			      SMMUV3_STE2_S2ENDI : 0));
	ste[3] = cpu_to_le64(cfg->arm_lpae_s2_cfg.vttbr & SMMUV3_STE3_S2TTB);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_make_s2);

/**
 * smmuv3_ste_fit() - fit an STE to the instance that will read it
 * @smmu: the instance
 * @ste: an STE from one of the builders
 *
 * The builders ask for the incoming shareability (STE.SHCFG) wherever
 * traffic bypasses a stage; the field is RES0 unless the SMMU can override
 * the incoming attributes (SMMU_IDR1.ATTR_TYPES_OVR, IHI 0070 5.2), and is
 * cleared for an instance without that.
 */
void smmuv3_ste_fit(const struct smmuv3_device *smmu, __le64 *ste)
{
	if (!(smmu->feat.flags & SMMUV3_FEAT_ATTR_TYPES_OVR))
		ste[1] &= ~cpu_to_le64(SMMUV3_STE1_SHCFG);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_fit);

/**
 * smmuv3_ste_make_rid() - the STE of a RID on the identity or blocked domain
 * @ste: SMMUV3_STE_QWORDS words of result
 * @master: the master
 * @ats: with EATS (when the STE uses the CD table)
 *
 * A plain bypassing or aborting STE, or while PASIDs are attached (or for
 * the identity RID of a device that requires ATS) the CD table with S1DSS
 * doing the same to traffic without a PASID.
 */
void smmuv3_ste_make_rid(__le64 *ste, const struct smmuv3_master *master,
			 bool ats)
{
	if (!smmuv3_master_has_pasids(master) &&
	    !smmuv3_ats_identity_cdtab(master)) {
		if (master->rid_identity)
			smmuv3_ste_make_bypass(ste);
		else
			smmuv3_ste_make_abort(ste);
		return;
	}
	smmuv3_ste_make_s1(ste, master, master->rid_identity ?
			   SMMUV3_S1DSS_BYPASS : SMMUV3_S1DSS_TERMINATE);
	smmuv3_ste_set_eats(ste, ats);
}

/**
 * smmuv3_ste_set_eats() - let an STE answer ATS translation requests
 * @ste: a translating STE (stage 1, stage 2 or nested); bypassing and
 *	aborting STEs never get EATS (the SMMU ignores it there)
 * @ats: set EATS to "full ATS" (0b01), else leave it 0
 */
void smmuv3_ste_set_eats(__le64 *ste, bool ats)
{
	u32 cfg = FIELD_GET(SMMUV3_STE0_CFG, le64_to_cpu(ste[0]));

	ste[1] &= ~cpu_to_le64(SMMUV3_STE1_EATS);
	if (!ats || !(le64_to_cpu(ste[0]) & SMMUV3_STE0_V))
		return;
	if (cfg != SMMUV3_STE_CFG_S1 && cfg != SMMUV3_STE_CFG_S2 &&
	    cfg != SMMUV3_STE_CFG_NESTED)
		return;
	ste[1] |= cpu_to_le64(FIELD_PREP(SMMUV3_STE1_EATS, SMMUV3_EATS_TRANS));
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_set_eats);

/**
 * smmuv3_ste_set_stall() - set STE.S2S in a stage-2 or nested STE with stalls
 * @ste: the STE
 * @master: the master (stall.c decides whether its stalls are enabled)
 */
void smmuv3_ste_set_stall(__le64 *ste, const struct smmuv3_master *master)
{
	u32 cfg = FIELD_GET(SMMUV3_STE0_CFG, le64_to_cpu(ste[0]));

	if (!master->stall_enabled || !(le64_to_cpu(ste[0]) & SMMUV3_STE0_V))
		return;
	if (cfg == SMMUV3_STE_CFG_S2 || cfg == SMMUV3_STE_CFG_NESTED)
		ste[2] |= cpu_to_le64(SMMUV3_STE2_S2S);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_set_stall);

#if SMMUV3_HAVE_VIOMMU
/**
 * smmuv3_ste_make_nested() - the STE of a device in a nested domain
 * @ste: SMMUV3_STE_QWORDS words of result
 * @nested: the nested domain
 *
 * Guest abort aborts; guest bypass translates by the parent alone; guest
 * stage 1 translates by both, the guest's CD table being an IPA.  The two
 * translating forms set STE.MEV: the guest drives their faults, and a
 * storm of them may be merged into fewer event records.  MEV is the
 * host's: smmuv3_vste_validate() refuses it in a guest STE.
 */
void smmuv3_ste_make_nested(__le64 *ste, const struct smmuv3_nested *nested)
{
	const struct smmuv3_viommu *viommu = nested->viommu;
	u64 w0 = le64_to_cpu(nested->vste[0]);
	u64 w1 = le64_to_cpu(nested->vste[1]);

	switch (FIELD_GET(SMMUV3_STE0_CFG, w0)) {
	case SMMUV3_STE_CFG_BYPASS:
		smmuv3_ste_make_s2(ste, viommu->parent, viommu->vmid.id);
		ste[1] |= cpu_to_le64(SMMUV3_STE1_MEV);
		return;
	case SMMUV3_STE_CFG_S1:
		if (w0 & SMMUV3_STE0_V)
			break;
		fallthrough;
	default:
		smmuv3_ste_make_abort(ste);
		return;
	}

	smmuv3_ste_make_s2(ste, viommu->parent, viommu->vmid.id);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_NESTED) |
			     (w0 & (SMMUV3_STE0_S1FMT | SMMUV3_STE0_S1CTXPTR |
				    SMMUV3_STE0_S1CDMAX)));
	ste[1] |= cpu_to_le64((w1 & SMMUV3_VSTE1_ALLOWED) |
			      FIELD_PREP(SMMUV3_STE1_STRW, SMMUV3_STRW_NSEL1) |
			      SMMUV3_STE1_MEV);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_make_nested);
#endif /* SMMUV3_HAVE_VIOMMU */
