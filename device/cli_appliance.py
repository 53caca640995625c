"""`tolk simulate` (the appliance on a PC) and `tolk run` (the appliance on the board)."""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from tolk.device.numbers import number_argument
from tolk.models import paths
from tolk.models.errors import TolkError

log = logging.getLogger(__name__)
DEMO_TEXTS = {"en": "Good morning. Where is the train station?", "es": "Buenos días. ¿Dónde está la estación?"}


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="the whole appliance on a PC (keys as buttons, or a script)")
    p.add_argument("--mic-file", type=Path, help="play this clip as the microphone (no sound card needed)")
    p.add_argument("--speaker-file", type=Path, help="write what the speaker plays to this WAV file")
    p.add_argument("--headless", action="store_true", help="no window: write frames as PNG files")
    p.add_argument("--frames", type=Path, default=Path("out/frames"), help="folder for PNG frames (headless)")
    p.add_argument("--script", type=Path, help="scenario of timed actions, run unattended")
    p.add_argument("--size", default="240x240", choices=["240x240", "320x240"])
    p.add_argument("--config", type=Path, help="device config TOML")
    p.add_argument("--data-dir", type=Path, help="settings and history folder (default: $TOLK_DATA_DIR, else out/sim-data)")
    p.add_argument("--mic-speed", type=number_argument(0.1, 100), default=1.0,
                   help="play --mic-file faster than real time (0.1-100)")
    p.add_argument("--audio", choices=["auto", "card", "files"], default="auto",
                   help="card: the sound card; files: clips in, WAV out; auto: the card when there is one")
    p.set_defaults(func=run_simulate)
    p = sub.add_parser("run", help="the appliance on the board (systemd runs this)")
    p.add_argument("--config", type=Path, default=Path("/etc/tolk/config.toml"))
    p.set_defaults(func=run_board)


def _sound_card_present() -> bool:
    try:
        import sounddevice as sd

        devices = sd.query_devices()
        return any(d["max_input_channels"] > 0 for d in devices) and any(d["max_output_channels"] > 0 for d in devices)
    except (OSError, ImportError):
        return False


def _demo_clips(store, folder: Path) -> dict[str, Path]:
    """A sample clip per side: English from the Piper voice, Spanish from espeak-ng."""
    from tolk.audio.clip import write_wav
    from tolk.models.tts import EspeakTts, PiperTts

    folder.mkdir(parents=True, exist_ok=True)
    piper = next(p for p in store.installed() if p.manifest.engine.value == "piper" and "en" in p.manifest.languages)
    voice = PiperTts(piper.path, piper.manifest)
    import numpy as np

    english = np.concatenate([s.audio for s in voice.speak(DEMO_TEXTS["en"], "en")])
    (spanish,) = EspeakTts(words_per_minute=130).speak(DEMO_TEXTS["es"], "es")
    return {"en": write_wav(folder / "sample-en.wav", english, voice.sample_rate),
            "es": write_wav(folder / "sample-es.wav", spanish.audio, spanish.sample_rate)}


def demo_script(clips: dict[str, Path]) -> str:
    return "\n".join([
        "wait-state ready 60",
        f"mic {clips['en']}", "hold talk_a", "wait-mic 60", "release talk_a", "wait-state ready 300",
        "wait 1",
        f"mic {clips['es']}", "hold talk_b", "wait-mic 60", "release talk_b", "wait-state ready 300",
        "wait 1",
    ])


def build(mic, speaker, display, size, data_dir: Path, on_state, retry_seconds: float = 2.0, rescan_devices=None,
          shutdown=None):
    from tolk.device.appliance import Appliance
    from tolk.device.controller import Controller
    from tolk.device.history import History
    from tolk.device.interpreter import InterpreterConfig
    from tolk.device.loader import load_interpreter
    from tolk.device.settings import SettingsFile
    from tolk.models.store import PackStore
    from tolk.ui.frames import render

    interpreter = load_interpreter(PackStore(paths.packs_dir()), InterpreterConfig())
    settings = SettingsFile(data_dir / "settings.json")
    controller = Controller(interpreter, mic, speaker, settings, History(data_dir / "history.sqlite"),
                            on_state=on_state, retry_seconds=retry_seconds, rescan_devices=rescan_devices,
                            shutdown=shutdown)
    return Appliance(controller, display, size, render)


def start_console_server(appliance, passphrase: str | None = None, reboot=None, debug: bool = False, claim=None):
    """The control socket for `tolk console`, and the in-RAM log it can tail."""
    import logging as logging_

    from tolk.device.console.commands import ApplianceHandle
    from tolk.device.console.logbuffer import RingLogHandler
    from tolk.device.console.server import ControlServer
    from tolk.models.store import PackStore

    logs = RingLogHandler()
    root = logging_.getLogger()
    root.addHandler(logs)
    if root.level > logging_.INFO or root.level == logging_.NOTSET:
        root.setLevel(logging_.INFO)
        for handler in root.handlers:
            if handler is not logs:
                handler.setLevel(logging_.WARNING)  # the terminal stays quiet; the ring keeps INFO
    handle = ApplianceHandle(appliance.controller, PackStore(paths.packs_dir()), logs, reboot=reboot, debug=debug)
    try:
        return ControlServer(handle, passphrase=passphrase, claim=claim).start()
    except OSError as err:
        log.warning("no control socket (console unavailable): %s", err)
        return None


def run_simulate(args: argparse.Namespace) -> int:
    from tolk.audio.devices import FileMicrophone, RecordingSpeaker, SoundDeviceMicrophone, SoundDeviceSpeaker
    from tolk.device.console.server import SocketClaim
    from tolk.device.interpreter import InterpreterConfig
    from tolk.device.script import load_script, parse_script, run_script
    from tolk.models.store import PackStore
    from tolk.ui import outputs as displays

    size = tuple(int(x) for x in args.size.split("x"))
    # a bad script (missing file, bad line) is refused before a device opens or a model loads
    given = load_script(args.script) if args.script else None
    out = Path("out")
    sound = args.mic_file is None and (args.audio == "card" or args.audio == "auto" and _sound_card_present())
    demo = args.script is None and not sound and args.mic_file is None
    headless = args.headless or demo
    stack = contextlib.ExitStack()
    try:
        if sound:
            mic, speaker = SoundDeviceMicrophone(), SoundDeviceSpeaker()
        else:
            # a clip is one turn: decoding stops at the turn's limit (a small file can hold hours of sound)
            mic = FileMicrophone(args.mic_file, speed=args.mic_speed, max_seconds=InterpreterConfig.max_seconds)
            speaker = RecordingSpeaker()
        display = displays.PngDisplay(args.frames) if headless else displays.MemoryDisplay()
        started = time.monotonic()

        def on_state(old, new) -> None:
            print(f"{time.monotonic() - started:7.2f} s  {old.value} -> {new.value}", flush=True)

        # --data-dir, else TOLK_DATA_DIR (as every other command), else a folder of its own under out/
        data_dir = args.data_dir or (Path(os.environ["TOLK_DATA_DIR"]) if os.environ.get("TOLK_DATA_DIR")
                                     else out / "sim-data")
        # a second simulator never takes the first one's control socket (checked before the models load)
        claim = SocketClaim()
        stack.callback(claim.release)
        appliance = build(mic, speaker, display, size, data_dir, on_state)
        if demo:
            print("No sound card: playing sample clips in (out/sample-*.wav); frames go to "
                  f"{args.frames}, speech to {args.speaker_file or out / 'speech.wav'}")
            script = parse_script(demo_script(_demo_clips(PackStore(paths.packs_dir()), out)))
        else:
            script = given
        server = start_console_server(appliance, claim=claim)
        stack.callback(lambda: server and server.close())
        appliance.controller.start()
        appliance.refresh()
        if script is not None:
            run_script(appliance, script, mic)
        elif headless:
            print("headless with no script: hold talk_a while the mic file plays, then stop", flush=True)
            run_script(appliance, parse_script("wait-state ready 60\nhold talk_a\nwait-mic 120\nrelease talk_a\n"
                                               "wait-state ready 300"), mic)
        else:
            from tolk.device.window_sim import run_window

            run_window(appliance)
    except TolkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        stack.close()
        if "speaker" in locals() and isinstance(speaker, RecordingSpeaker):
            path = args.speaker_file or (out / "speech.wav" if demo else None)
            if path:
                speaker.write(path)
                print(f"wrote {path} ({speaker.seconds:.1f} s of speech)")
    if headless:
        print(f"frames in {args.frames}")
    return 0


def open_display(config):
    """The display driver named in the config."""
    from tolk.ui import outputs as displays

    if config.driver == "st7789":
        return displays.St7789Display(config)
    if config.driver == "framebuffer":
        return displays.FramebufferDisplay()
    if config.driver == "png":
        return displays.PngDisplay(Path(config.frames_dir))
    return displays.MemoryDisplay()


def run_board(args: argparse.Namespace) -> int:
    from tolk.audio.devices import SoundDeviceMicrophone, SoundDeviceSpeaker
    from tolk.device.buttons import Buttons
    from tolk.device.config import load_config
    from tolk.device.leds import StatusLed
    from tolk.device.service import SystemdNotifier
    from tolk.device.state import State

    from tolk.device.console.server import SocketClaim

    try:
        config = load_config(args.config)
        claim = SocketClaim()  # one appliance per socket: refused before the models load if one is running
        d = config.display
        display = open_display(d)
        mic = SoundDeviceMicrophone(config.audio.input_device, config.audio.capture_rate, config.audio.block_seconds)
        speaker = SoundDeviceSpeaker(config.audio.output_device)
        led = StatusLed(config.led.pin) if config.led.pin is not None else None
        if led:
            led.show(State.BOOTING)
        from tolk.audio.devices import rescan

        appliance = build(mic, speaker, display, (d.width, d.height), paths.data_dir(), led and led.on_state,
                          retry_seconds=config.audio.retry_seconds, rescan_devices=rescan,
                          shutdown=lambda: subprocess.run(["systemctl", "poweroff"], check=False))
        buttons = Buttons(config.buttons, appliance.controller.post)
        start_console_server(appliance, config.console.passphrase,
                             reboot=lambda: subprocess.run(["systemctl", "reboot"], check=False),
                             debug=config.console.debug, claim=claim)
    except TolkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from tolk.device.power import LowBatteryWatch

    controller = appliance.controller
    battery = LowBatteryWatch(controller.low_battery_shutdown,
                              threshold=config.power.low_battery_percent, interval=config.power.battery_check_seconds)
    battery.start()
    notifier = SystemdNotifier()
    appliance.controller.start()
    notifier.ready()
    try:
        appliance.run(watchdog=notifier.watchdog)
    finally:
        battery.stop()
        buttons.close()
        if led:
            led.close()
    return 0
