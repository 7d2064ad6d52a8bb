"""The issue-7 "must show" run, with the real CLI and the real model (a few minutes; not part of make test).

    .venv/bin/python tests/reliability_demo.py [WORKDIR [PART...]]     # PART: 1-5, default all

1. ``newsdesk index corpus``, then ``newsdesk index EXTRA`` (new articles) killed with SIGKILL at five
   moments; after each, ``ask --json`` must equal the answers from before and ``verify`` must pass;
   then a later ``index`` must complete.
2. Every file of the index damaged in turn (one byte flipped): ``ask`` and ``verify`` give one clean line.
3. A folder of bad files: the good articles answer, the bad ones are named, no traceback.
4. A 1 MB question exits 2. 5. Two concurrent ``index`` runs both end cleanly.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWSDESK = str(Path(sys.executable).parent / "newsdesk")
QUESTIONS = [
    "How many National Guard and Marine personnel were originally sent to Los Angeles?",
    "Who is the chief spokesman for the Pentagon?",
    "How many troops remain in the Los Angeles area?",
]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([NEWSDESK, *args], input=stdin, capture_output=True, timeout=900)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def ask_all(index: Path) -> list[str]:
    return [run("ask", q, "--index", str(index), "--json").stdout for q in QUESTIONS]


def extra_folder(work: Path) -> Path:
    """New articles: the corpus's .txt and .md files under new names (so new ids)."""
    extra = work / "extra"
    extra.mkdir()
    for path in sorted((ROOT / "corpus").glob("*/*")):
        if path.suffix in (".txt", ".md"):
            shutil.copy(path, extra / f"copy-{path.name}")
    return extra


def wait_for(proc: subprocess.Popen[bytes], condition: Callable[[], bool], timeout: float = 300) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if condition():
            return True
        time.sleep(0.002)
    return False


def kill_runs(work: Path, index: Path, extra: Path, before: list[str]) -> None:
    def tmp_dir() -> bool:
        return any(p.name.startswith(".tmp-gen-") for p in index.iterdir())

    def tmp_manifest() -> bool:
        return any((p / "manifest.json").exists() for p in index.glob(".tmp-gen-*"))

    def started(seconds: float) -> Callable[[], bool]:
        t0 = time.monotonic()
        return lambda: time.monotonic() - t0 >= seconds

    moments: list[tuple[str, Callable[[], Callable[[], bool]]]] = [
        ("0.5 s after start (loading the model)", lambda: started(0.5)),
        ("3 s after start", lambda: started(3.0)),
        ("6 s after start (embedding)", lambda: started(6.0)),
        ("as soon as the temp generation folder exists", lambda: tmp_dir),
        ("as soon as the temp manifest exists (just before the rename)", lambda: tmp_manifest),
    ]
    for label, make in moments:
        proc = subprocess.Popen(
            [NEWSDESK, "index", str(extra), "--index", str(index)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        hit = wait_for(proc, make())
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        left = sorted(p.name for p in index.iterdir() if p.name.startswith(".tmp") or p.name.endswith(".tmp"))
        verify = run("verify", "--index", str(index), "--no-model")
        same = ask_all(index) == before
        print(
            f"kill -9 {label}: {'killed' if proc.returncode == -9 else f'finished first (exit {proc.returncode})'}"
            f"{'' if hit else ' (moment not reached)'}; verify exit {verify.returncode}; "
            f"answers identical: {same}; temp left: {left or 'none'}"
        )
    done = run("index", str(extra), "--index", str(index))
    left = sorted(p.name for p in index.iterdir() if p.name.startswith(".tmp") or p.name.endswith(".tmp"))
    print(f"later index: exit {done.returncode}: {done.stderr.strip().splitlines()[-1]}; temp left: {left or 'none'}")
    print(f"verify: exit {run('verify', '--index', str(index)).returncode}")


def damage_runs(work: Path, index: Path) -> None:
    live = index / (index / "CURRENT").read_text().split()[0]
    names = ["CURRENT"] + sorted(p.relative_to(index).as_posix() for p in live.rglob("*") if p.is_file())
    clean = 0
    for name in names:
        copy = work / "damaged"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(index, copy)
        raw = bytearray((copy / name).read_bytes())
        raw[len(raw) // 2] ^= 0x01
        (copy / name).write_bytes(bytes(raw))
        ask = run("ask", QUESTIONS[0], "--index", str(copy))
        verify = run("verify", "--index", str(copy), "--no-model")
        ok = ask.returncode == 1 and verify.returncode == 1 and ask.stderr.count("\n") == 1
        ok = ok and "Traceback" not in ask.stderr + verify.stderr and "run newsdesk index" in ask.stderr
        clean += ok
        print(f"flip {name}: ask exit {ask.returncode}, verify exit {verify.returncode}: {ask.stderr.strip()[:110]}")
    print(f"damaged files with a clean one-line error: {clean}/{len(names)}")


def bad_files(work: Path) -> None:
    folder = work / "bad"
    folder.mkdir()
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02")
    (folder / "latin1.txt").write_bytes("Café owners protest\n\nThe café on Rue Lépine closed in août.\n".encode("latin-1"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "wire.jsonl").write_text(
        '{"id": "w1", "text": "The ferry to Vashon Island was cancelled on Tuesday because of high winds."}\n'
        '{"id": "w2", "text": "broken line"\n'
        '{"id": "w3", "text": "The county fair drew 41,000 visitors over the weekend."}\n'
    )
    (folder / "zz-dup.json").write_text('{"id": "w1", "text": "A different article that reuses the id w1."}')
    index = work / "bad-index"
    done = run("index", str(folder), "--index", str(index))
    print(f"index bad folder: exit {done.returncode}; traceback: {'Traceback' in done.stderr}")
    print("\n".join("  " + line for line in done.stderr.strip().splitlines() if not line.startswith("embedding")))
    for question in ("Why was the ferry to Vashon Island cancelled?", "How many visitors did the county fair draw?"):
        top = json.loads(run("ask", question, "--index", str(index), "--json").stdout)["sentences"][0]
        print(f"  ask {question!r}: {top['article_id']}: {top['text']}")


def big_question(work: Path) -> None:
    done = run("ask", "-", "--index", str(work / "index"), stdin=b"a" * 1_000_000)
    print(f"1 MB question on stdin: exit {done.returncode}: {done.stderr.strip()}")
    try:
        subprocess.run([NEWSDESK, "ask", "a" * 1_000_000], capture_output=True, check=False)
    except OSError as exc:
        print(f"1 MB question as an argument: the OS refuses to start the command ({exc.strerror})")
    done = run("ask", "a" * 100_000, "--index", str(work / "index"))
    print(f"100 KB question as an argument: exit {done.returncode}: {done.stderr.strip()}")


def concurrent(work: Path, index: Path) -> None:
    a, b = work / "more-a", work / "more-b"
    for folder, names in ((a, ("council-budget", "measles-outbreak")), (b, ("guard-portland", "wildfire-crews"))):
        folder.mkdir()
        for name in names:
            shutil.copy(ROOT / "corpus" / "txt" / f"{name}.txt", folder / f"{folder.name}-{name}.txt")
    procs = [
        subprocess.Popen([NEWSDESK, "index", str(f), "--index", str(index)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for f in (a, b)
    ]
    for proc in procs:
        _out, err = proc.communicate()
        last = err.decode().strip().splitlines()
        print(f"concurrent index: exit {proc.returncode}: {' | '.join(x for x in last if 'embedding' not in x)}")
    verify = run("verify", "--index", str(index))
    print(f"after both: verify exit {verify.returncode}; {verify.stdout.splitlines()[2]}")
    answer = json.loads(run("ask", QUESTIONS[1], "--index", str(index), "--json").stdout)
    print(f"ask after both: {answer['sentences'][0]['text'][:100]}")


def main() -> None:
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="newsdesk-demo-"))
    parts = set(sys.argv[2:]) or {"1", "2", "3", "4", "5"}
    work = work / f"run-{time.strftime('%H%M%S')}"
    work.mkdir(parents=True)
    index = work / "index"
    started = time.monotonic()
    print(f"work folder {work}")
    if parts & {"1", "2", "5"}:
        done = run("index", str(ROOT / "corpus"), "--index", str(index))
        print(f"index corpus: exit {done.returncode}: {done.stderr.strip().splitlines()[-1]}")
    if "1" in parts:
        print("== 1. kill -9 while adding articles")
        kill_runs(work, index, extra_folder(work), ask_all(index))
    if "2" in parts:
        print("== 2. one byte flipped in each file")
        damage_runs(work, index)
    if "3" in parts:
        print("== 3. bad files")
        bad_files(work)
    if "4" in parts:
        print("== 4. a 1 MB question")
        big_question(work)
    if "5" in parts:
        print("== 5. two concurrent index runs")
        concurrent(work, index)
    print(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
