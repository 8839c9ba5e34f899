// SPDX-License-Identifier: GPL-2.0
/*
 * A planted kernel crash inside a KUnit suite, for vkci's own tests
 * (harness/t/48-kunit.t): its second case panics the kernel while it boots,
 * so every result of the boot is lost. vkci must report the crash against
 * this suite and that case, and run the other suites of the instance again
 * (those that finished before it and those that never started). Linked
 * between KUnit's own suites (harness/t/kunit/planted-tree.sh).
 */
#include <kunit/test.h>
#include <linux/panic.h>

static void vkci_planted_before(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1, 1);
}

static noinline void vkci_planted_panics(struct kunit *test)
{
	panic("vkci planted panic in a KUnit case");
}

static void vkci_planted_after(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1, 1);
}

static struct kunit_case vkci_planted_panic_cases[] = {
	KUNIT_CASE(vkci_planted_before),
	KUNIT_CASE(vkci_planted_panics),
	KUNIT_CASE(vkci_planted_after),
	{}
};

static struct kunit_suite vkci_planted_panic_suite = {
	.name = "vkci_planted_panic",
	.test_cases = vkci_planted_panic_cases,
};

kunit_test_suites(&vkci_planted_panic_suite);

MODULE_DESCRIPTION("vkci planted KUnit crash (tests of vkci itself)");
MODULE_LICENSE("GPL");
