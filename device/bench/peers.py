"""Peers on the same machine, same run, same model files: the Home Assistant voice stack (Wyoming servers on
loopback) and llama.cpp. They run from their own virtualenv (``.venv-peers``, made by ``tolk bench --setup-peers``
or by hand) so their pins never touch Tolk's."""
from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from tolk.audio.clip import ASR_RATE, to_int16

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
READ_TIMEOUT = 300.0  # s: a Wyoming server silent this long is stuck (a turn here takes well under a minute)
PEER_PACKAGES = ("wyoming-faster-whisper==3.8.1", "wyoming-piper==2.5.2", "llama-cpp-python")


def peer_python() -> Path:
    return Path(os.environ.get("TOLK_PEERS_PYTHON", REPO / ".venv-peers" / "bin" / "python"))


def setup_peers(progress=print) -> None:
    """Create .venv-peers with the peers (llama-cpp-python compiles llama.cpp: minutes on 2 cores)."""
    venv = REPO / ".venv-peers"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for package in PEER_PACKAGES:
        progress(f"installing {package} into {venv}")
        env = dict(os.environ, CMAKE_ARGS="-DGGML_NATIVE=OFF")
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", package], check=True, env=env)


def peer_version(package: str) -> str | None:
    python = peer_python()
    if not python.exists():
        return None
    result = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
                            capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def ensure_wyoming_client() -> None:
    """Make the ``wyoming`` client library importable here: if Tolk's environment lacks it, expose only the peer
    environment's copy (pure Python, no dependencies) through a symlink folder on ``sys.path``."""
    try:
        import wyoming  # noqa: F401
        return
    except ImportError:
        pass
    script = ("import importlib.util as u, importlib.metadata as m; "
              "print(u.find_spec('wyoming').submodule_search_locations[0]); print(m.distribution('wyoming')._path)")
    result = subprocess.run([str(peer_python()), "-c", script], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("the wyoming client library is in neither Tolk's environment nor .venv-peers")
    folder = Path(tempfile.mkdtemp(prefix="tolk-wyoming-"))
    atexit.register(shutil.rmtree, folder, True)
    for source in result.stdout.split():  # the package and its dist-info (it reads its own version)
        (folder / Path(source).name).symlink_to(source)
    sys.path.append(str(folder))
    log.info("wyoming client from %s", result.stdout.split()[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(args: list[str], port: int, timeout: float = 180) -> Iterator[subprocess.Popen]:
    """Start a peer server on 127.0.0.1:port, wait until it accepts, stop it by its PID afterwards."""
    proc = subprocess.Popen([str(peer_python()), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{args[1]} exited: {proc.stderr.read().decode()[-400:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{args[1]} did not listen on port {port}")
                time.sleep(0.5)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _ha_turn(asr_port: int, tts_port: int, audio: np.ndarray, language: str,
                   translate: Callable[[str], str], sink=None) -> tuple[float | None, str, str]:
    """One turn through the Wyoming servers: speech streamed in 100 ms chunks at real-time pace, the
    transcript translated by ``translate``, Piper's first audio chunk handed to ``sink`` (a bench
    playback sink: the time is its first write, as for Tolk; without a sink, the chunk's arrival)."""
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize

    pcm = to_int16(audio).tobytes()
    async with AsyncTcpClient("127.0.0.1", asr_port) as client:
        await client.write_event(Transcribe(language=language).event())
        await client.write_event(AudioStart(rate=ASR_RATE, width=2, channels=1).event())
        step = ASR_RATE // 10 * 2
        started = time.monotonic()
        for i in range(0, len(pcm), step):
            chunk = pcm[i:i + step]
            await asyncio.sleep(max(0.0, started + (i + len(chunk)) / 2 / ASR_RATE - time.monotonic()))
            await client.write_event(AudioChunk(rate=ASR_RATE, width=2, channels=1, audio=chunk).event())
        await client.write_event(AudioStop().event())
        end_of_speech = time.monotonic()
        while not Transcript.is_type((event := await _read(client, "ASR")).type):
            pass
        text = Transcript.from_event(event).text
    translation = translate(text)
    first: float | None = None
    try:
        async with AsyncTcpClient("127.0.0.1", tts_port) as client:
            await client.write_event(Synthesize(text=translation).event())
            # read to the end of the audio: a client that hangs up mid-stream can leave the server stuck
            while not AudioStop.is_type((event := await _read(client, "TTS")).type):
                if AudioChunk.is_type(event.type) and first is None:
                    first = await _first_write(AudioChunk.from_event(event), sink)
    finally:
        if sink is not None:
            sink.close(drain=False)
    return (None if first is None else first - end_of_speech), text, translation


async def _read(client, what: str):
    try:
        event = await asyncio.wait_for(client.read_event(), READ_TIMEOUT)
    except asyncio.TimeoutError:
        raise RuntimeError(f"the {what} server sent nothing for {READ_TIMEOUT:.0f} s") from None
    if event is None:
        raise RuntimeError(f"the {what} server closed the connection")
    return event


async def _first_write(chunk, sink) -> float | None:
    """Hand Piper's first chunk to the sink and return the time of its first write (or now, without a sink)."""
    if sink is None:
        return time.monotonic()
    sink.play(np.frombuffer(chunk.audio, dtype="<i2").astype(np.float32) / 32768.0, chunk.rate)
    return await asyncio.to_thread(sink.wait_first_write, 30.0)


class HomeAssistantStack:
    """The Wyoming faster-whisper and Piper servers on 127.0.0.1 (started on enter, stopped on exit), given our
    Whisper folder and Piper voice; ``turn`` runs one spoken turn through them."""

    def __init__(self, whisper_dir: Path, voice_onnx: Path, language: str = "en") -> None:
        self.whisper_dir, self.voice_onnx, self.language = whisper_dir, voice_onnx, language
        self.versions = {p: peer_version(p) for p in ("wyoming-faster-whisper", "wyoming-piper")}
        self._stack = ExitStack()
        self.asr_port = self.tts_port = 0

    @property
    def missing(self) -> str | None:
        return None if all(self.versions.values()) else "wyoming peers are not installed (tolk bench --setup-peers)"

    def __enter__(self) -> "HomeAssistantStack":
        ensure_wyoming_client()
        self.asr_port, self.tts_port = _free_port(), _free_port()
        data = self._stack.enter_context(tempfile.TemporaryDirectory())
        voice_dir = Path(data) / "voices"
        voice_dir.mkdir()
        for suffix in ("", ".json"):
            shutil.copy(f"{self.voice_onnx}{suffix}", voice_dir / f"{self.voice_onnx.name}{suffix}")
        asr_args = ["-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{self.asr_port}", "--model",
                    str(self.whisper_dir), "--data-dir", data, "--local-files-only", "--language", self.language]
        tts_args = ["-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{self.tts_port}", "--voice",
                    self.voice_onnx.name.removesuffix(".onnx"), "--data-dir", str(voice_dir), "--local-files-only"]
        try:
            self._stack.enter_context(server(asr_args, self.asr_port))
            self._stack.enter_context(server(tts_args, self.tts_port))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def turn(self, audio: np.ndarray, language: str, translate: Callable[[str], str],
             sink=None) -> tuple[float | None, str, str]:
        """(end of speech -> first audio s, transcript, translation)."""
        return asyncio.run(_ha_turn(self.asr_port, self.tts_port, audio, language, translate, sink))


def home_assistant_stack(whisper_dir: Path, voice_onnx: Path, clips: list, translate: Callable[[str, str, str], str],
                         runs: int = 1, sinks: Callable[[str], object] | None = None, progress=print) -> dict:
    """First-audio times of the HA stack alone, with our translation between its servers.

    ``clips``: objects with ``name``, ``audio`` (16 kHz float32), ``language`` and ``target`` (the
    latency bench's clips); ``translate(text, source, target)``; ``sinks(name)`` makes a playback
    sink per turn. One un-timed warm-up turn per clip, then ``runs`` timed turns, clips interleaved."""
    stack = HomeAssistantStack(whisper_dir, voice_onnx, clips[0].language)
    if stack.missing:
        return {"skipped": stack.missing}
    rows: dict[str, dict] = {clip.name: {"runs": []} for clip in clips}
    with stack:
        for clip in clips:
            ha_turn(stack, clip, translate, None)  # warm-up (model load, first-call caches)
        for i in range(runs):
            for clip in clips:
                seconds = ha_turn(stack, clip, translate, sinks, rows)
                progress(f"HA stack run {i + 1}/{runs} {clip.name}: first audio "
                         f"{'none' if seconds is None else f'{seconds:.2f} s'}")
    return {"versions": stack.versions, "rows": rows}


def ha_turn(stack: HomeAssistantStack, clip, translate: Callable[[str, str, str], str],
            sinks: Callable[[str], object] | None, rows: dict[str, dict] | None = None) -> float | None:
    """One timed turn of ``clip`` through the stack; recorded in ``rows[clip.name]`` when given."""
    sink = sinks(f"ha-{clip.name.replace(':', '-')}") if sinks else None
    row = rows.setdefault(clip.name, {"runs": []}) if rows is not None else {"runs": []}
    try:
        seconds, heard, translation = stack.turn(clip.audio, clip.language,
                                                 lambda text: translate(text, clip.language, clip.target), sink)
    except (RuntimeError, OSError) as err:  # counted as a failed run; the bench goes on
        log.warning("HA stack turn %s failed: %s", clip.name, err)
        row.setdefault("failures", []).append(str(err))
        return None
    row.update(heard=heard, translation=translation)
    row["runs"].append(seconds)
    return seconds


LLAMA_SCRIPT = r"""
import json, sys, time
from llama_cpp import Llama
gguf, prompt, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
llm = Llama(model_path=gguf, n_ctx=2048, n_threads=int(sys.argv[4]), verbose=False)
def run(max_tokens):
    llm.reset()
    t = time.perf_counter()
    out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, top_k=1)
    return time.perf_counter() - t, out["usage"]["completion_tokens"], out["usage"]["prompt_tokens"]
run(1)
t1, _, prompt_tokens = run(1)
tn, generated, _ = run(n)
import llama_cpp
print(json.dumps({"t1": t1, "tn": tn, "generated": generated, "prompt_tokens": prompt_tokens,
                  "version": llama_cpp.__version__}))
"""


def llama_cpp_speed(gguf: Path, prompt: str, tokens: int, threads: int) -> dict:
    if peer_version("llama-cpp-python") is None:
        return {"skipped": "llama-cpp-python is not installed (tolk bench --setup-peers)"}
    result = subprocess.run([str(peer_python()), "-c", LLAMA_SCRIPT, str(gguf), prompt, str(tokens), str(threads)],
                            capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        return {"skipped": f"llama.cpp failed: {result.stderr.strip()[-300:]}"}
    data = json.loads(result.stdout.strip().splitlines()[-1])
    decode = (data["generated"] - 1) / max(data["tn"] - data["t1"], 1e-9)
    return {"version": data["version"], "llama_tok_s": decode, "llama_prompt_tok_s": data["prompt_tokens"] / data["t1"],
            "llama_generated": data["generated"]}
