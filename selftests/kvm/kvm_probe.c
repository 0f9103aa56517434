// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm_probe: can this (arm64) guest run KVM guests of its own?  What a VMM
 * with an in-kernel irqchip (QEMU's -accel kvm, kernel-irqchip=on) needs
 * first: /dev/kvm, a VM, a vCPU of the preferred target, an in-kernel
 * GICv3 (vgic) initialised, and a vCPU that runs guest code.  The guest
 * code is four instructions: it stores 42 to an address no memory slot
 * covers, so KVM_RUN must come back with KVM_EXIT_MMIO for that address
 * and value.
 *
 * Prints one "kvm_probe: STEP ok|fail ..." line per step; exit status 0
 * when every step worked.  Built static against the guest kernel's uAPI:
 *   aarch64-linux-gnu-gcc -static -O2 -I KBUILD/usr/include -o kvm_probe kvm_probe.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#define RAM_GPA		0x40000000ull
#define RAM_SIZE	0x10000ull
#define MMIO_GPA	0x1000ull
#define GICD_GPA	0x08000000ull
#define GICR_GPA	0x080a0000ull

static int failed;

static __attribute__((format(printf, 3, 4)))
void step(const char *name, int ok, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("kvm_probe: %s %s%s%s\n", name, ok ? "ok" : "fail", *msg ? ": " : "", msg);
	fflush(stdout);
	if (!ok)
		failed = 1;
}

static int set_reg(int vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(vcpu, KVM_SET_ONE_REG, &r);
}

#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
		     (offsetof(struct kvm_regs, x) / sizeof(__u32)))

int main(void)
{
	static const uint32_t code[] = {
		0xd2820000,	/* mov x0, #0x1000 */
		0xd2800541,	/* mov x1, #42 */
		0xf9000001,	/* str x1, [x0] */
		0x14000000,	/* b . */
	};
	struct kvm_userspace_memory_region slot;
	struct kvm_vcpu_init init;
	struct kvm_create_device gic = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	struct kvm_device_attr attr;
	struct kvm_run *run;
	uint64_t addr;
	void *ram;
	int kvm, vm, vcpu, ret, runsz;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	step("open", kvm >= 0, "/dev/kvm: %s", kvm >= 0 ? "present" : strerror(errno));
	if (kvm < 0)
		return 1;
	ret = ioctl(kvm, KVM_GET_API_VERSION, 0);
	step("api", ret == KVM_API_VERSION, "KVM_GET_API_VERSION %d", ret);
	printf("kvm_probe: caps: irqchip %d, max vcpus %d, IPA bits %d, nested virt %d\n",
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_EL2));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	step("create-vm", vm >= 0, "%s", vm >= 0 ? "" : strerror(errno));
	if (vm < 0)
		return 1;

	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return 1;
	memcpy(ram, code, sizeof(code));
	slot = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = RAM_GPA, .memory_size = RAM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)ram,
	};
	ret = ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot);
	step("memslot", !ret, "%s", ret ? strerror(errno) : "");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	step("create-vcpu", vcpu >= 0, "%s", vcpu >= 0 ? "" : strerror(errno));
	if (vcpu < 0)
		return 1;
	memset(&init, 0, sizeof(init));
	ret = ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init);
	step("preferred-target", !ret, "target %u", init.target);
	ret = ioctl(vcpu, KVM_ARM_VCPU_INIT, &init);
	step("vcpu-init", !ret, "%s", ret ? strerror(errno) : "");

	ret = ioctl(vm, KVM_CREATE_DEVICE, &gic);
	step("vgic-v3-create", !ret, "%s", ret ? strerror(errno) : "");
	if (!ret) {
		addr = GICD_GPA;
		attr = (struct kvm_device_attr){ .group = KVM_DEV_ARM_VGIC_GRP_ADDR,
			.attr = KVM_VGIC_V3_ADDR_TYPE_DIST, .addr = (uint64_t)(uintptr_t)&addr };
		ret = ioctl(gic.fd, KVM_SET_DEVICE_ATTR, &attr);
		step("vgic-v3-dist", !ret, "%s", ret ? strerror(errno) : "");
		addr = GICR_GPA;
		attr.attr = KVM_VGIC_V3_ADDR_TYPE_REDIST;
		ret = ioctl(gic.fd, KVM_SET_DEVICE_ATTR, &attr);
		step("vgic-v3-redist", !ret, "%s", ret ? strerror(errno) : "");
		attr = (struct kvm_device_attr){ .group = KVM_DEV_ARM_VGIC_GRP_CTRL,
			.attr = KVM_DEV_ARM_VGIC_CTRL_INIT };
		ret = ioctl(gic.fd, KVM_SET_DEVICE_ATTR, &attr);
		step("vgic-v3-init", !ret, "%s", ret ? strerror(errno) : "");
	}

	ret = set_reg(vcpu, CORE_REG(regs.pc), RAM_GPA);
	step("set-pc", !ret, "%s", ret ? strerror(errno) : "");
	runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return 1;
	ret = ioctl(vcpu, KVM_RUN, 0);
	if (ret) {
		step("run", 0, "KVM_RUN: %s", strerror(errno));
	} else if (run->exit_reason != KVM_EXIT_MMIO) {
		step("run", 0, "exit reason %u, expected KVM_EXIT_MMIO (%u)", run->exit_reason,
		     KVM_EXIT_MMIO);
	} else {
		uint64_t v = 0;

		memcpy(&v, run->mmio.data, run->mmio.len < 8 ? run->mmio.len : 8);
		step("run", run->mmio.is_write && run->mmio.phys_addr == MMIO_GPA && v == 42,
		     "KVM_EXIT_MMIO %s of %u bytes at %#llx, value %llu (expected a write of 42 "
		     "at %#llx)", run->mmio.is_write ? "write" : "read", run->mmio.len,
		     (unsigned long long)run->mmio.phys_addr, (unsigned long long)v,
		     MMIO_GPA);
	}
	return failed;
}
