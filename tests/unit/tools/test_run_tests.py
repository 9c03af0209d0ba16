"""The pure parts of tools/run_tests.py: stage selection, lanes, failure excerpts, summary."""
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location("run_tests", _ROOT / "tools" / "run_tests.py")
run_tests = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(run_tests)

LAB_STAGES = ["test-cluster", "test-ha"]
CONTROLLER_STAGES = ["yamllint", "ansible-lint", "sanity", "units", "integration", "lab-artifacts-tests", "build", "docs-lint",
                     "molecule"]


def names(stages):
    return [stage.target for stage in stages]


def test_every_stage_is_a_make_target():
    makefile = (_ROOT / "Makefile").read_text(encoding="utf-8")
    rules = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    assert set(names(run_tests.STAGES)) <= rules


def test_the_lab_lane_holds_the_stages_that_use_the_lab_in_their_order():
    controller, lab = run_tests.split_lanes(run_tests.STAGES)
    assert names(lab) == LAB_STAGES
    assert names(controller) == CONTROLLER_STAGES
    assert {stage.lane for stage in lab} == {run_tests.LAB}


def test_one_lane_runs_every_stage_in_the_usual_order():
    assert run_tests.split_lanes(run_tests.STAGES, lanes=1) == [list(run_tests.STAGES)]


def test_a_subset_of_one_kind_gives_one_lane():
    selected = run_tests.select(run_tests.STAGES, ["test-ha", "test-cluster"])[0]
    assert [names(lane) for lane in run_tests.split_lanes(selected)] == [["test-cluster", "test-ha"]]
    assert not run_tests.split_lanes([])


def test_selection_keeps_the_usual_order_and_names_unknown_stages():
    selected, unknown = run_tests.select(run_tests.STAGES, ["docs-lint", "units", "nope", "yamllint"])
    assert names(selected) == ["yamllint", "units", "docs-lint"]
    assert unknown == ["nope"]


def test_no_selection_means_every_stage():
    selected, unknown = run_tests.select(run_tests.STAGES, [])
    assert names(selected) == names(run_tests.STAGES)
    assert not unknown


@pytest.mark.parametrize("value, lanes", [(None, 2), ("", 2), ("2", 2), ("1", 1), (" 1 ", 1)])
def test_test_lanes(value, lanes):
    assert run_tests.lanes_from_env(value) == lanes


@pytest.mark.parametrize("value", ["0", "3", "yes"])
def test_test_lanes_refuses_other_values(value):
    with pytest.raises(ValueError, match="TEST_LANES"):
        run_tests.lanes_from_env(value)


def test_excerpt_is_the_tail_and_the_marked_lines_before_it():
    lines = ["ok %d" % n for n in range(100)]
    lines[10] = "fatal: [nd-cp1]: FAILED! => {\"msg\": \"boom\"}"
    lines[20] = "E   AssertionError: 3 != 4"
    lines[95] = "ERROR: in the tail"
    marked, last, left_out = run_tests.failure_excerpt(lines)
    assert marked == [lines[10], lines[20]]
    assert last == lines[60:]
    assert left_out == 0


def test_excerpt_prints_each_text_once_and_not_again_when_in_the_tail():
    lines = ["error: same"] * 5 + ["  error: same  "] + ["x"] * 39 + ["error: same"]
    marked, last = run_tests.failure_excerpt(lines)[:2]
    assert not marked
    assert last[-1] == "error: same"


def test_excerpt_is_bounded():
    lines = ["Error: problem %d" % n for n in range(500)]
    marked, last, left_out = run_tests.failure_excerpt(lines)
    assert len(marked) + len(last) == run_tests.EXCERPT_LIMIT
    assert marked[0] == "Error: problem 0"
    assert left_out == 460 - len(marked)


def test_excerpt_cuts_long_lines_and_drops_colours():
    lines = ["\x1b[31mfatal: " + "x" * 1000 + "\x1b[0m"] + ["."] * 40
    marked = run_tests.failure_excerpt(lines)[0]
    assert marked[0].startswith("fatal: xxx")
    assert marked[0].endswith(" [...]")
    assert len(marked[0]) == run_tests.EXCERPT_WIDTH + len(" [...]")


def test_excerpt_of_a_short_log_is_the_whole_log():
    marked, last, left_out = run_tests.failure_excerpt(["a", "FAILED b"])
    assert (marked, last, left_out) == ([], ["a", "FAILED b"], 0)


def _result(target="units", rc=2):
    stage = next(stage for stage in run_tests.STAGES if stage.target == target)
    return run_tests.Result(stage, rc, 1.5, Path("build/logs") / f"{target}.log")


@pytest.mark.parametrize("log", [
    ["collected 0 items", "", "no tests ran in 0.01s", "make: *** [Makefile:45: units] Error 5"],
    ["/x/.venv/bin/python -m pytest tests/unit -k nothing", "10 deselected in 0.2s", "make: *** [Makefile:45: units] Error 5"],
])
def test_a_pytest_run_without_tests_is_named(log):
    text = run_tests.format_excerpt(_result(), log)
    assert "pytest ran no tests (its exit code 5): this stage expects tests" in text


def test_an_ordinary_failure_is_not_called_a_run_without_tests():
    text = run_tests.format_excerpt(_result(), ["FAILED tests/unit/test_x.py::test_y", "make: *** [Makefile:45: units] Error 1"])
    assert not any("no tests" in line for line in text)
    assert text[0] == "----- units failed (exit code 2); full log: build/logs/units.log -----"


def test_summary_table_and_final_line():
    results = [_result("yamllint", 0), _result("test-ha", 2)]
    text = run_tests.format_summary(results, 12.34)
    assert text[-1] == "stages: 1 passed, 1 failed"
    assert re.match(r"^yamllint +controller +1\.5 +PASS$", text[2])
    assert re.match(r"^test-ha +lab +1\.5 +FAIL$", text[3])
    assert text[-2].startswith("wall time 12.3 s (the stages add up to 3.0 s)")


# The runner end to end on a stand-in Makefile: a controller stage and a lab
# stage that each wait for the other to start, and a failing stage.
FAKE_MAKEFILE = """\
.PHONY: venv collection-link yamllint test-cluster units build
venv collection-link:
\t@true
yamllint:
\t@touch controller-started; for i in $$(seq 50); do [ -e lab-started ] && exit 0; sleep 0.1; done; echo 'no lab stage ran alongside'; exit 1
test-cluster:
\t@touch lab-started; for i in $$(seq 50); do [ -e controller-started ] && exit 0; sleep 0.1; done; echo 'no controller stage ran alongside'; exit 1
units:
\t@echo 'fatal: [nd-cp1]: FAILED! => boom'; for i in $$(seq 60); do echo "line $$i"; done; exit 3
build:
\t@echo built
"""


@pytest.fixture()
def fake_checkout(tmp_path, monkeypatch):
    (tmp_path / "Makefile").write_text(FAKE_MAKEFILE, encoding="utf-8")
    monkeypatch.setattr(run_tests, "ROOT", tmp_path)
    monkeypatch.setattr(run_tests, "LOG_DIR", tmp_path / "build" / "logs")
    monkeypatch.delenv("TEST_LANES", raising=False)
    return tmp_path


def test_the_lanes_run_at_the_same_time_and_failures_are_explained(fake_checkout, monkeypatch, capsys):
    monkeypatch.setenv("STAGES", "yamllint units test-cluster")
    assert run_tests.main() == 1
    out = capsys.readouterr().out
    assert "===== 3 stage(s): yamllint -> units; at the same time: test-cluster =====" in out
    assert "----- units failed (exit code 2); full log: build/logs/units.log -----" in out
    assert "  fatal: [nd-cp1]: FAILED! => boom" in out
    assert "  line 60" in out
    assert re.search(r"^yamllint +controller +[0-9.]+ +PASS$", out, re.MULTILINE)
    assert re.search(r"^test-cluster +lab +[0-9.]+ +PASS$", out, re.MULTILINE)
    assert out.rstrip().endswith("stages: 2 passed, 1 failed")
    assert (fake_checkout / "build" / "logs" / "units.log").read_text(encoding="utf-8").startswith("fatal: [nd-cp1]")


def test_one_lane_runs_the_stages_one_after_another(fake_checkout, monkeypatch, capsys):
    monkeypatch.setenv("STAGES", "build units")
    monkeypatch.setenv("TEST_LANES", "1")
    assert run_tests.main() == 1
    out = capsys.readouterr().out
    assert "===== 2 stage(s): units -> build =====" in out
    assert out.index("===== units: FAIL") < out.index("===== build (controller lane)")
    assert "[build] built" in out
    assert out.rstrip().endswith("stages: 1 passed, 1 failed")


def test_unknown_stages_are_refused(fake_checkout, monkeypatch, capsys):
    monkeypatch.setenv("STAGES", "units unitz")
    assert run_tests.main() == 2
    assert "error: STAGES names no stage: unitz" in capsys.readouterr().out


def test_step_times_are_recalled_keeping_the_last_ones():
    stage = run_tests.Stage("test-ha", run_tests.LAB, "HA")
    result = run_tests.Result(stage, 0, 12.0, "build/logs/test-ha.log")
    lines = ["==> test-ha: bringing up the HA lab (log: up.log)",
             "\x1b[32m==> test-ha: lab up and site.yml done in 303 s\x1b[0m",
             "ok: [nd-cp1]",
             "==> test-upgrade: upgrade test done in 925 s",
             "==> test-ha: something in 3 stages"]
    assert run_tests.format_step_times(result, lines) == [
        "----- test-ha: step times -----",
        "  ==> test-ha: lab up and site.yml done in 303 s",
        "  ==> test-upgrade: upgrade test done in 925 s"]
    assert run_tests.format_step_times(result, lines, limit=1)[1:] == ["  ==> test-upgrade: upgrade test done in 925 s"]
    assert not run_tests.format_step_times(result, ["PASS"])


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="the kernel has no automatic process groups")
def test_a_controller_stage_session_gets_the_lowest_cpu_weight():
    with subprocess.Popen(["sleep", "30"], start_new_session=True) as proc:
        try:
            assert run_tests.lower_cpu_weight(proc.pid)
            assert Path(f"/proc/{proc.pid}/autogroup").read_text(encoding="ascii").split()[-1] == "19"
        finally:
            proc.kill()


def test_no_autogroup_is_not_an_error():
    assert run_tests.lower_cpu_weight(2**22 + 12345) is False
