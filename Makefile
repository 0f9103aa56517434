# SPDX-License-Identifier: GPL-2.0-only
#
# User-facing targets of the smmuv3 repo (GNU make).  Kbuild reads the file
# "Kbuild", never this one.  Run `make help` for the list.
#
# By default every step runs inside the Debian 13 chroot of qemu/env.sh
# (created on first use in $(SMMUV3_CACHE), about 2 minutes).  Host tools
# replace the chroot for what they cover:
#   QEMU=/path/qemu-system-aarch64   boot with this QEMU (>= 10.1)
#   KDIR=/path/kernel-build-tree     guest kernel and module builds on the host
#   CROSS_COMPILE=aarch64-linux-gnu- compiler for the host builds (with KDIR)
# The chroot still provides busybox, the UEFI firmware and the stock-kernel
# DKMS check unless told otherwise (see README.md).

SMMUV3_CACHE ?= /var/cache/smmuv3
export SMMUV3_CACHE

# debug (lockdep, KASAN, kmemleak, ...) or base
KERNEL ?= debug
# ours (smmuv3.ko) or upstream (the kernel's arm_smmu_v3.ko)
DRIVER ?= ours
# Seconds per boot before QEMU is killed.  make check boots two guests at
# once on two cores: its longest boots (acpi2, acpi2-life) take 5-7 minutes
# so, and about 16 on a machine as loaded again by other work.
TIMEOUT ?= 1500
# Extra qemu/run.py options, e.g. ARGS="--topology dt1 -v"
ARGS ?=

REPO := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

ifneq ($(origin CROSS_COMPILE),command line)
ifeq ($(KDIR),)
# An inherited CROSS_COMPILE cannot build against the chroot's kernel tree.
override CROSS_COMPILE :=
endif
endif

ifneq ($(KDIR)$(QEMU),)
# Host tools: run.py runs here and uses the chroot only for the rest.
RUN = python3 $(REPO)/qemu/run.py $(if $(QEMU),--qemu $(QEMU)) \
	$(if $(KDIR),--kdir $(abspath $(KDIR))) \
	$(if $(CROSS_COMPILE),--cross-compile $(CROSS_COMPILE))
else ifneq ($(CROSS_COMPILE),)
RUN = @echo "CROSS_COMPILE= needs KDIR= (a kernel tree built with that compiler);" \
	"without KDIR everything is built in the chroot" >&2; false
else
RUN = $(REPO)/qemu/env.sh run env SMMUV3_HOST_CACHE=$(SMMUV3_CACHE) \
	SMMUV3_HOST_REPO=$(REPO) python3 /src/qemu/run.py
endif

OPTS = --kernel $(KERNEL) --driver $(DRIVER) --timeout $(TIMEOUT) $(ARGS)

.PHONY: help run check soak bench module deb checkpatch sparse oracle clean

help:
	@echo "make run         the demo: one guest with two SMMUs (acpi2); shows the SMMUs and"
	@echo "                 IOMMU groups, DMA through each SMMU, one domain shared by both"
	@echo "                 (one page table, a tag per SMMU); about 30 s once built"
	@echo "make check       checkpatch, sparse, oracle, all topologies on the debug kernel"
	@echo "                 (KUnit, selftests, kmemleak, kernel log), acpi2 on Linux 6.12,"
	@echo "                 the .deb's DKMS builds and the stock-kernel boots (6.12, 7.2,"
	@echo "                 7.3); ends with 'N passed, N failed'"
	@echo "make soak        BOOTS (default 25) quick boots each of acpi2 and acpi8:"
	@echo "                 probe, IOMMU groups, block I/O, topology selftest;"
	@echo "                 DURATION=S first runs smmuv3_stress S seconds on each;"
	@echo "                 before the boots, the whole fail-nth walk of the SMMU probe (acpi2)"
	@echo "make bench       our driver and upstream side by side (base kernel): map+unmap"
	@echo "                 rates on acpi2 for guest CPUs cortex-a57, neoverse-n1, max,"
	@echo "                 with and without iommu.passthrough=1, and on acpi8 (1 vs 8"
	@echo "                 devices); BENCH_BOOTS (default 3) boots per driver and row,"
	@echo "                 alternated; MMIO and commands per unmap from a QEMU trace;"
	@echo "                 then the kernel's dma_map_benchmark (single and scatter-gather,"
	@echo "                 1 and 2 threads, strict and flush-queue groups) for both drivers;"
	@echo "                 then the page-table memory of one IOAS with devices behind 1-8"
	@echo "                 instances (acpi8, SecPageTables); then the stock 7.3 kernel"
	@echo "                 with smmuv3.ko (DKMS) and with its built-in driver"
	@echo "                 (PART=drivers|dma|ptmem|stock for one part)"
	@echo "make module      build smmuv3.ko against the guest kernel"
	@echo "make deb         build the Debian package smmuv3-dkms (dh-dkms) into out/"
	@echo "make checkpatch  scripts/checkpatch.pl --strict on the driver sources"
	@echo "make sparse      module build with C=1 W=1; fails on any warning"
	@echo "make oracle      include/smmuv3/regs.h against the kernel's and QEMU's"
	@echo "                 definitions of the same fields (qemu/oracle.py)"
	@echo "make clean       remove build output (out/)"
	@echo "Variables: KERNEL=debug|base DRIVER=ours|upstream TIMEOUT=s ARGS='run.py options'"
	@echo "           QEMU= KDIR= CROSS_COMPILE= (host tools) SMMUV3_CACHE=$(SMMUV3_CACHE)"
	@echo "Logs: $(SMMUV3_CACHE)/logs/latest/"

# The demo picks its kernel (base if built, else debug if built, else base)
# unless KERNEL= is given.
run:
	$(RUN) --demo $(if $(filter command line environment,$(origin KERNEL)),--kernel $(KERNEL)) \
		--driver $(DRIVER) --timeout $(TIMEOUT) $(ARGS)

check:
	$(RUN) --check $(OPTS)

# Repeated quick boots: every boot is a new draw of the probe-time races.
BOOTS ?= 25
# DURATION=S: first smmuv3_stress for S seconds on acpi2 and acpi8.
soak:
ifneq ($(DURATION),)
	$(RUN) --topology acpi2 --topology acpi8 --kernel $(KERNEL) --driver $(DRIVER) \
		--timeout $$(($(DURATION) + 600)) --append smtest.tests=smmuv3_stress \
		--append smtest.kunit=0 --append smtest.stress_duration=$(DURATION) $(ARGS)
endif
	$(RUN) --topology acpi2 --kernel $(KERNEL) --driver $(DRIVER) --timeout 2400 \
		--append smtest.tests=smmuv3_lifecycle --append smtest.kunit=0 \
		--append smtest.failnth_stride=1 $(ARGS)
	$(RUN) --repeat $(BOOTS) --repeat-only --topology acpi2 --topology acpi8 --kernel $(KERNEL) \
		--driver $(DRIVER) --timeout $(TIMEOUT) $(ARGS)

# The benchmark boots both drivers itself, on the base kernel unless KERNEL= is given.
bench:
	$(RUN) --bench --kernel $(if $(filter command line environment,$(origin KERNEL)),$(KERNEL),base) \
		--bench-part $(or $(PART),all) --timeout $(TIMEOUT) \
		$(if $(BENCH_BOOTS),--bench-boots $(BENCH_BOOTS)) $(ARGS)

module:
	$(RUN) --build $(OPTS)

# The .deb is built in the chroot (debhelper, dh-dkms) and copied to out/.
deb:
	@mkdir -p $(REPO)/out
	$(REPO)/qemu/env.sh run env SMMUV3_CACHE=/cache bash /src/qemu/deb.sh build | \
		sed -n 's|^DEB=/cache/|$(SMMUV3_CACHE)/|p' | xargs -I{} cp -v {} $(REPO)/out/

checkpatch:
	$(RUN) --static checkpatch $(OPTS)

sparse:
	$(RUN) --static sparse $(OPTS)

oracle:
	$(RUN) --static oracle $(OPTS)

clean:
	rm -rf $(REPO)/out
	find $(REPO) -path $(REPO)/.git -prune -o -path $(REPO)/selftests -prune -o \
		-type f \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '.*.d' -o -name modules.order \
		-o -name Module.symvers \) -print0 | xargs -0 rm -f
