"""Runs one CPython regression-test module with unittest and reports every test's outcome.

The same code runs inside the guest (imported by a cell) and under native python3.11
(`python3.11 -I driver.py TEST_ROOT MODULE`), so both are measured on the same terms.
TEST_ROOT holds the `test` package of the pinned CPython sources. The report is one line
on stdout: MARKER followed by JSON {"tests": {id: [status, detail]}, "seconds": s}.
Statuses: pass, fail, error, skip (a subtest failure fails its test; an unexpected
success of an @expectedFailure test is a fail, an expected failure a pass).
"""

import importlib
import json
import sys
import time
import traceback
import unittest

MARKER = "@@cpython-tests@@"


class _Collect(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.outcomes = {}

    def _set(self, test, status, detail=""):
        test_id = test.id()
        # A test already failed (by a subtest) keeps that status.
        if self.outcomes.get(test_id, ("pass",))[0] in ("fail", "error") and status == "pass":
            return
        self.outcomes[test_id] = (status, detail)

    @staticmethod
    def _detail(err):
        exc_type, exc, _ = err
        lines = traceback.format_exception_only(exc_type, exc)
        return "".join(lines).strip().splitlines()[-1][:300] if lines else ""

    def addSuccess(self, test):
        super().addSuccess(test)
        self._set(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._set(test, "fail", self._detail(err))

    def addError(self, test, err):
        super().addError(test, err)
        self._set(test, "error", self._detail(err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._set(test, "skip", str(reason)[:300])

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._set(test, "pass")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._set(test, "fail", "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            status = "fail" if issubclass(err[0], test.failureException) else "error"
            self._set(test, status, f"{subtest.id()[len(test.id()):].strip()}: {self._detail(err)}")


# test_sqlite3 takes two C limits from _testcapi, which the guest is built without
# (--disable-test-modules), and would not load at all. Where _testcapi is missing, these
# modules get a stand-in holding only those constants (the same on wasm32 as natively).
_TESTCAPI_LIMITS_FOR = {"test_sqlite3": {"INT_MAX": 2**31 - 1, "ULLONG_MAX": 2**64 - 1}}


def _testcapi_limits(module: str) -> None:
    limits = _TESTCAPI_LIMITS_FOR.get(module)
    if not limits:
        return
    try:
        import _testcapi  # noqa: F401
    except ImportError:
        import types

        stand_in = types.ModuleType("_testcapi", "limits only (cpython-tests/driver.py)")
        stand_in.__dict__.update(limits)
        sys.modules["_testcapi"] = stand_in


def run(test_root: str, module: str) -> dict:
    sys.path.insert(0, test_root)
    _testcapi_limits(module)
    from test import support

    # No optional resources (network, cpu, largefile, ...): the same for guest and native.
    support.use_resources = []
    support.verbose = 0
    started = time.perf_counter()
    result = _Collect()
    try:
        mod = importlib.import_module(f"test.{module}")
        if hasattr(mod, "test_main"):
            # As regrtest does: a module's own test_main() chooses its tests (test_decimal
            # runs them on the C and Python implementations); its suites run into ours.
            support._run_suite = lambda suite: suite.run(result)
            mod.test_main()
        else:
            unittest.defaultTestLoader.loadTestsFromModule(mod).run(result)
    except unittest.SkipTest as exc:  # the whole module skips itself (a missing resource)
        result.outcomes[f"test.{module}"] = ("skip", str(exc)[:300])
    except BaseException as exc:  # noqa: BLE001 - the module itself failed to load or run
        result.outcomes[f"test.{module}"] = ("error", f"{type(exc).__name__}: {exc}"[:300])
    # Load errors show as unittest.loader._FailedTest.<name>: name them by the module.
    failed_prefix = "unittest.loader._FailedTest."
    tests = {}
    for test_id, outcome in result.outcomes.items():
        if test_id.startswith(failed_prefix):
            name = test_id[len(failed_prefix):]
            if name in (module, f"test.{module}"):
                test_id = f"test.{module}"
            else:
                test_id = name if name.startswith("test.") else f"test.{module}.{name}"
        tests[test_id] = list(outcome)
    return {"tests": tests, "seconds": round(time.perf_counter() - started, 3)}


def main(test_root: str, module: str) -> None:
    report = run(test_root, module)
    sys.stdout.flush()
    print(MARKER + json.dumps(report), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
