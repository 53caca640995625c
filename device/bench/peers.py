"""Peers on the same machine, same run, same model files: the Home Assistant voice stack (Wyoming servers on
loopback) and llama.cpp. They run from their own virtualenv (``.venv-peers``, made by ``tolk bench --setup-peers``
or by hand) so their pins never touch Tolk's."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from tolk.audio.clip import ASR_RATE, to_int16

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
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
                   translate: Callable[[str], str]) -> tuple[float, str, str]:
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize

    pcm = to_int16(audio).tobytes()
    async with AsyncTcpClient("127.0.0.1", asr_port) as client:
        await client.write_event(Transcribe(language=language).event())
        await client.write_event(AudioStart(rate=ASR_RATE, width=2, channels=1).event())
        step = ASR_RATE // 10 * 2
        for i in range(0, len(pcm), step):
            await client.write_event(AudioChunk(rate=ASR_RATE, width=2, channels=1, audio=pcm[i:i + step]).event())
        await client.write_event(AudioStop().event())
        end_of_speech = time.monotonic()
        while True:
            event = await client.read_event()
            if event is None:
                raise RuntimeError("the ASR server closed the connection")
            if Transcript.is_type(event.type):
                text = Transcript.from_event(event).text
                break
    translation = translate(text)
    async with AsyncTcpClient("127.0.0.1", tts_port) as client:
        await client.write_event(Synthesize(text=translation).event())
        while True:
            event = await client.read_event()
            if event is None:
                raise RuntimeError("the TTS server closed the connection")
            if AudioChunk.is_type(event.type):
                return time.monotonic() - end_of_speech, text, translation


def home_assistant_stack(whisper_dir: Path, voice_onnx: Path, clips: dict[str, np.ndarray], language: str,
                         translate: Callable[[str], str]) -> dict:
    """First-audio time of the Wyoming faster-whisper + Piper servers, with our translation between them."""
    versions = {p: peer_version(p) for p in ("wyoming-faster-whisper", "wyoming-piper")}
    if not all(versions.values()):
        return {"skipped": "wyoming peers are not installed (tolk bench --setup-peers)"}
    asr_port, tts_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as data:
        voice_dir = Path(data) / "voices"
        voice_dir.mkdir()
        for suffix in ("", ".json"):
            shutil.copy(f"{voice_onnx}{suffix}", voice_dir / f"{voice_onnx.name}{suffix}")
        asr_args = ["-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{asr_port}", "--model",
                    str(whisper_dir), "--data-dir", data, "--local-files-only", "--language", language]
        tts_args = ["-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{tts_port}", "--voice",
                    voice_onnx.name.removesuffix(".onnx"), "--data-dir", str(voice_dir), "--local-files-only"]
        with server(asr_args, asr_port), server(tts_args, tts_port):
            rows = {}
            for name, audio in clips.items():
                asyncio.run(_ha_turn(asr_port, tts_port, audio, language, translate))  # warm-up
                seconds, text, translation = asyncio.run(_ha_turn(asr_port, tts_port, audio, language, translate))
                rows[name] = {"peer": seconds, "heard": text, "translation": translation}
    return {"versions": versions, "rows": rows}


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
