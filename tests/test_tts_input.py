"""Text that looks like a command-line option is spoken, not parsed (espeak-ng gets text on stdin)."""
import shutil

from tests.conftest import need_real
from tolk.models.tts import EspeakTts


def test_text_starting_with_a_dash_is_spoken():
    if shutil.which("espeak-ng") is None:
        need_real("espeak-ng is not installed")
    (speech,) = list(EspeakTts().speak("-5 grados", "es"))
    assert speech.audio.size > speech.sample_rate * 0.3 and abs(speech.audio).max() > 0.05
