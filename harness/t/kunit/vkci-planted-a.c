// SPDX-License-Identifier: GPL-2.0
/*
 * Planted KUnit faults for vkci's own tests (harness/t/48-kunit.t): built
 * into a test tree (harness/t/kunit/planted-tree.sh) beside KUnit's own
 * suites, never into a tree of yours. This file's suites run first at boot.
 *
 *   vkci_planted_fail: one case passes, one fails (an expectation that is
 *                      false), one skips: the suite must fail on exactly
 *                      that case, with the other two reported as they are.
 *   vkci_planted_warn: one case prints a kernel WARNING and passes as far
 *                      as KUnit knows; the kernel goes on. vkci must fail
 *                      the suite with the warning (a crash report is a
 *                      failure) and nothing else.
 */
#include <kunit/test.h>
#include <linux/bug.h>

static void vkci_planted_passes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 2 + 2, 4);
}

static void vkci_planted_fails(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, 1 + 1, 3, "vkci planted failure");
}

static void vkci_planted_skips(struct kunit *test)
{
	kunit_skip(test, "vkci planted skip");
}

static struct kunit_case vkci_planted_fail_cases[] = {
	KUNIT_CASE(vkci_planted_passes),
	KUNIT_CASE(vkci_planted_fails),
	KUNIT_CASE(vkci_planted_skips),
	{}
};

static struct kunit_suite vkci_planted_fail_suite = {
	.name = "vkci_planted_fail",
	.test_cases = vkci_planted_fail_cases,
};

static noinline void vkci_planted_warns(struct kunit *test)
{
	WARN(1, "vkci planted warning");
	KUNIT_EXPECT_TRUE(test, true);
}

static struct kunit_case vkci_planted_warn_cases[] = {
	KUNIT_CASE(vkci_planted_passes),
	KUNIT_CASE(vkci_planted_warns),
	{}
};

static struct kunit_suite vkci_planted_warn_suite = {
	.name = "vkci_planted_warn",
	.test_cases = vkci_planted_warn_cases,
};

kunit_test_suites(&vkci_planted_fail_suite, &vkci_planted_warn_suite);

MODULE_DESCRIPTION("vkci planted KUnit faults (tests of vkci itself)");
MODULE_LICENSE("GPL");
