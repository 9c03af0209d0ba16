"""Run every test stage of the collection and summarise.

Each stage is a ``make`` target. The stages that use the lab (test-cluster,
test-ha) run one after another in the "lab" lane; the other stages run one
after another in the "controller" lane, at the same time as the lab lane:
the lab stages mostly wait on their nodes. Molecule's instances are
containers of their own (network nd-molecule, not the lab's), so the
Molecule scenarios run last in the controller lane, while the lab lane is
still busy, instead of before the lab stages.

All stages run even when one fails, so a single run shows every problem.
Each stage writes its output to ``build/logs/<stage>.log`` and streams it
with a ``[stage]`` prefix; a stage that prints nothing for a while gets a
"still running" line. When a stage fails, the lines of its log that say why
are printed again at the end, before a table of every stage (lane, seconds,
PASS or FAIL) and the total wall time. The exit status is non-zero when any
stage fails.

When the two lanes run at the same time, each controller stage runs in a
session of its own whose scheduling group gets the lowest CPU weight
(``/proc/<pid>/autogroup``, nice 19): the lab lane is the longer one and its
steps wait on timeouts, so the controller stages use the CPU the lab leaves.
Plain ``nice`` would not do it: with the kernel's automatic process groups
the weight of a session counts, not that of a process in it.

Environment:
  STAGES="units integration"  run only these stages (space separated)
  TEST_LANES=1                run every stage one after another, in one lane
"""
import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "build" / "logs"

CONTROLLER = "controller"
LAB = "lab"

Stage = collections.namedtuple("Stage", "target lane title")
Result = collections.namedtuple("Result", "stage rc seconds log")

# The order of a sequential run (TEST_LANES=1); within each lane the stages
# keep this order.
STAGES = (
    Stage("yamllint", CONTROLLER, "YAML style"),
    Stage("ansible-lint", CONTROLLER, "ansible-lint, production profile"),
    Stage("sanity", CONTROLLER, "ansible-test sanity"),
    Stage("units", CONTROLLER, "unit tests (pytest, tests/unit)"),
    Stage("integration", CONTROLLER, "integration tests (pytest, tests/integration)"),
    Stage("lab-artifacts-tests", CONTROLLER, "lab artifact builder tests (pytest, go test)"),
    Stage("build", CONTROLLER, "ansible-galaxy collection build"),
    Stage("docs-lint", CONTROLLER, "antsibull-docs lint-collection-docs"),
    Stage("molecule", CONTROLLER, "Molecule scenarios (their own containers, not the lab)"),
    Stage("test-cluster", LAB, "site.yml on the lab: bootstrap, rerun changed=0, check mode, cluster tests, day-2 playbooks"),
    Stage("test-ha", LAB, "3 control planes on the lab: etcd and API everywhere, losing a control plane, upgrade"),
)

# Lines of a failed stage's log that usually say why it failed.
MARKERS = ("FAILED", "fatal:", "ERROR", "Error:", "AssertionError", "error:", "no tests ran")
FAILURE_MARKERS = re.compile("|".join(re.escape(marker) for marker in MARKERS))
# What pytest and make print when pytest ran no test (pytest's exit code 5).
NO_TESTS = re.compile(r"\bno tests ran\b|\bcollected 0 items\b")
MAKE_ERROR_5 = re.compile(r"^make(\[\d+\])?: \*\*\* .*\] Error 5$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
EXCERPT_TAIL = 40
EXCERPT_LIMIT = 80
EXCERPT_WIDTH = 300

# The lines of the lab scripts that give a step's wall time (tools/lib.sh's
# step: "==> test-ha: upgrade test done in 925 s"), recalled before the
# summary so that the end of the output says where a stage's time went.
STEP_TIME = re.compile(r"^==> [^:]+: .* in [0-9]+ s\b")
STEP_TIMES_LIMIT = 30

# A running stage silent for this long gets a "still running" line.
QUIET_SECONDS = 60


def select(stages, wanted):
    """The stages named in ``wanted`` (all when empty), in their usual order.

    Returns (selected, unknown): unknown holds the names that are no stage.
    """
    names = {stage.target for stage in stages}
    unknown = [name for name in wanted if name not in names]
    if not wanted:
        return list(stages), unknown
    return [stage for stage in stages if stage.target in wanted], unknown


def split_lanes(stages, lanes=2):
    """The lanes to run at the same time: lists of stages run one after another.

    With two lanes the controller stages and the lab stages each get one;
    with one lane every stage runs in order. Empty lanes are left out.
    """
    if lanes == 1:
        return [list(stages)] if stages else []
    split = [[stage for stage in stages if stage.lane == lane] for lane in (CONTROLLER, LAB)]
    return [lane for lane in split if lane]


def lanes_from_env(value):
    """The number of lanes TEST_LANES asks for (2 when unset)."""
    value = (value or "2").strip()
    if value not in ("1", "2"):
        raise ValueError(f"TEST_LANES must be 1 (one stage after another) or 2 (lab and controller lanes), not {value!r}")
    return int(value)


def _clip(line, width):
    return line if len(line) <= width else line[:width] + " [...]"


def failure_excerpt(lines, tail=EXCERPT_TAIL, limit=EXCERPT_LIMIT, width=EXCERPT_WIDTH):
    """The lines of a failed stage's log worth reading, at most ``limit``.

    The lines before the last ``tail`` that match FAILURE_MARKERS (each text
    once, the first ones when there are too many), then the last ``tail``
    lines. Long lines are cut to ``width`` characters.
    Returns (marked, last, left_out): left_out counts marked lines left out.
    """
    lines = [ANSI.sub("", line).rstrip("\r\n") for line in lines]
    last = lines[-tail:] if tail else []
    head = lines[:len(lines) - len(last)]
    seen = {line.strip() for line in last}
    marked = []
    for line in head:
        key = line.strip()
        if key in seen or not FAILURE_MARKERS.search(line):
            continue
        seen.add(key)
        marked.append(line)
    room = max(limit - len(last), 0)
    left_out = max(len(marked) - room, 0)
    marked = marked[:room]
    return [_clip(line, width) for line in marked], [_clip(line, width) for line in last], left_out


def ran_no_tests(lines):
    """Whether a stage's log shows a pytest run that ran no test."""
    if any(NO_TESTS.search(line) for line in lines):
        return True
    return any(MAKE_ERROR_5.match(line) for line in lines) and any("pytest" in line for line in lines)


def format_excerpt(result, lines):
    """The text printed for a failed stage: where its log is and why it failed."""
    marked, last, left_out = failure_excerpt(lines)
    out = [f"----- {result.stage.target} failed (exit code {result.rc}); full log: {result.log} -----"]
    if ran_no_tests(lines):
        out.append("pytest ran no tests (its exit code 5): this stage expects tests")
    if marked:
        out.append(f"lines with {', '.join(MARKERS)}:")
        out.extend("  " + line for line in marked)
        if left_out:
            out.append(f"  ... and {left_out} more such lines in the log")
    out.append(f"last {len(last)} lines:")
    out.extend("  " + line for line in last)
    return out


def format_step_times(result, lines, limit=STEP_TIMES_LIMIT):
    """The step wall times a stage's log printed (none: no lines), at most ``limit``, the last ones."""
    found = [ANSI.sub("", line).rstrip("\r\n") for line in lines]
    found = [line for line in found if STEP_TIME.match(line)]
    if not found:
        return []
    return [f"----- {result.stage.target}: step times -----"] + ["  " + line for line in found[-limit:]]


def format_summary(results, wall):
    """The closing table and the final ``stages: N passed, N failed`` line."""
    width = max([len("stage")] + [len(result.stage.target) for result in results])
    out = ["===== summary =====", f"{'stage':<{width}}  {'lane':<10}  {'seconds':>8}  result"]
    for result in results:
        status = "PASS" if result.rc == 0 else "FAIL"
        out.append(f"{result.stage.target:<{width}}  {result.stage.lane:<10}  {result.seconds:8.1f}  {status}")
    total = sum(result.seconds for result in results)
    out.append(f"wall time {wall:.1f} s (the stages add up to {total:.1f} s); logs in {LOG_DIR.relative_to(ROOT)}/")
    passed = sum(1 for result in results if result.rc == 0)
    out.append(f"stages: {passed} passed, {len(results) - passed} failed")
    return out


class Console:
    """Lines from several lanes, printed whole, one at a time."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()
        self.running = {}  # target -> [start, last output, last "still running" line]

    def print(self, text=""):
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def output(self, target, text):
        with self.lock:
            self.running[target][1] = time.monotonic()
            self.stream.write(f"[{target}] {text}\n")
            self.stream.flush()

    def watch(self, stop):
        """Until ``stop`` is set, name the stages that have been quiet a while."""
        while not stop.wait(5):
            now = time.monotonic()
            with self.lock:
                quiet = [(target, times) for target, times in self.running.items()
                         if now - max(times[1], times[2]) >= QUIET_SECONDS]
                for target, times in quiet:
                    times[2] = now
                    self.stream.write(f"[{target}] ... still running after {now - times[0]:.0f} s, "
                                      f"no output for {now - times[1]:.0f} s (log: {LOG_DIR.relative_to(ROOT)}/{target}.log)\n")
                if quiet:
                    self.stream.flush()


class Runner:
    """Runs lanes of stages at the same time, each stage a ``make`` target.

    Each stage runs in a process group of its own, with stdin not the
    terminal (two lanes must not read it); an interrupt or a SIGTERM of this
    runner goes to every process of the running stages.
    """

    def __init__(self, console, env, lanes=1):
        self.console = console
        self.env = env
        self.lanes = lanes
        self.procs = {}
        self.lock = threading.Lock()
        self.stopped_by = None
        self.results = {}

    def run_stage(self, stage):
        log = LOG_DIR / f"{stage.target}.log"
        self.console.print(f"===== {stage.target} ({stage.lane} lane): {stage.title} =====")
        start = time.monotonic()
        with self.console.lock:
            self.console.running[stage.target] = [start, start, start]
        rc = self._make(stage.target, log, yield_cpu=self.lanes > 1 and stage.lane == CONTROLLER)
        seconds = time.monotonic() - start
        with self.console.lock:
            del self.console.running[stage.target]
        if rc is None:
            return
        self.console.print(f"===== {stage.target}: {'PASS' if rc == 0 else 'FAIL'} in {seconds:.1f} s "
                           f"(exit code {rc}, log: {log.relative_to(ROOT)}) =====")
        self.results[stage.target] = Result(stage, rc, seconds, log.relative_to(ROOT))

    def _make(self, target, log, yield_cpu=False):
        with self.lock:
            if self.stopped_by is not None:
                return None
            # A session of its own is also a process group of its own: stop() reaches it the same way.
            session = {"start_new_session": True} if yield_cpu else {"process_group": 0}
            proc = subprocess.Popen(  # pylint: disable=consider-using-with  # closed below, after the lock
                ["make", "--no-print-directory", target], cwd=ROOT, env=self.env, **session,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.procs[target] = proc
            if yield_cpu:
                lower_cpu_weight(proc.pid)
        with proc, open(log, "w", encoding="utf-8") as fh:
            for raw in proc.stdout:
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                fh.write(text + "\n")
                fh.flush()
                self.console.output(target, text)
            rc = proc.wait()
        with self.lock:
            del self.procs[target]
        return rc

    def run_lane(self, stages):
        for stage in stages:
            self.run_stage(stage)

    def stop(self, sig):
        """Send ``sig`` to every process of the running stages; start no other stage."""
        with self.lock:
            if self.stopped_by is None:
                self.stopped_by = sig
            for proc in self.procs.values():
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass


def lower_cpu_weight(pid, nice=19):
    """Give the session of ``pid`` the CPU weight of ``nice``; False where the kernel has no autogroups."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(f"{nice}\n", encoding="ascii")
    except OSError:
        return False
    return True


def stage_env():
    env = dict(os.environ)
    # Output reaches the log as it is printed, not when a buffer fills.
    env["PYTHONUNBUFFERED"] = "1"
    # The stages use the toolchain of the interpreter that runs them
    # (make test runs this with $(VENV)/bin/python).
    if "VENV" not in env and sys.prefix != sys.base_prefix:
        env["VENV"] = sys.prefix
    return env


def prepare(console, env):
    """The virtual environment and the collection link, made once for every lane."""
    log = LOG_DIR / "prepare.log"
    with open(log, "w", encoding="utf-8") as fh:
        rc = subprocess.call(["make", "--no-print-directory", "venv", "collection-link"], cwd=ROOT, env=env,
                             stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT)
    if rc:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        result = Result(Stage("venv collection-link", CONTROLLER, ""), rc, 0.0, log.relative_to(ROOT))
        for line in format_excerpt(result, lines):
            console.print(line)
    return rc


def main():
    console = Console()
    selected, unknown = select(STAGES, os.environ.get("STAGES", "").split())
    if unknown:
        console.print(f"error: STAGES names no stage: {' '.join(unknown)}; the stages are: {' '.join(s.target for s in STAGES)}")
        return 2
    try:
        lanes = split_lanes(selected, lanes_from_env(os.environ.get("TEST_LANES")))
    except ValueError as exc:
        console.print(f"error: {exc}")
        return 2

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    env = stage_env()
    if prepare(console, env):
        console.print("error: make venv collection-link failed; no stage was run")
        return 1

    description = "; at the same time: ".join(" -> ".join(stage.target for stage in lane) for lane in lanes)
    console.print(f"===== {len(selected)} stage(s): {description} =====")
    runner = Runner(console, env, lanes=len(lanes))
    stop = threading.Event()
    watcher = threading.Thread(target=console.watch, args=(stop,), daemon=True)
    threads = [threading.Thread(target=runner.run_lane, args=(lane,)) for lane in lanes]
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: runner.stop(signal.SIGTERM))
    start = time.monotonic()
    watcher.start()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                try:
                    thread.join(0.5)
                except KeyboardInterrupt:
                    console.print("===== interrupted: stopping the running stages =====")
                    # A second interrupt ends them harder.
                    runner.stop(signal.SIGINT if runner.stopped_by is None else signal.SIGTERM)
    finally:
        stop.set()
        signal.signal(signal.SIGTERM, previous)
    wall = time.monotonic() - start

    results = [runner.results[stage.target] for stage in selected if stage.target in runner.results]
    console.print()
    logs = {result.stage.target: (ROOT / result.log).read_text(encoding="utf-8", errors="replace").splitlines()
            for result in results}
    for result in results:
        if result.rc != 0:
            for line in format_excerpt(result, logs[result.stage.target]):
                console.print(line)
            console.print()
    for result in results:
        for line in format_step_times(result, logs[result.stage.target]):
            console.print(line)
    for line in format_summary(results, wall):
        console.print(line)
    if runner.stopped_by is not None:
        not_run = [stage.target for stage in selected if stage.target not in runner.results]
        if not_run:
            console.print(f"stopped before: {' '.join(not_run)}")
        return 128 + runner.stopped_by
    return 1 if any(result.rc != 0 for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
