"""Pack manifests: the round trip and the shipped prompt (hostile manifests: tests/hostile/test_manifest_input.py)."""
import json

from tolk.models.manifest import Engine, Kind, PackManifest
from tests.packfixtures import make_pack


def test_round_trip(tmp_path):
    manifest = make_pack(tmp_path / "p")
    loaded = PackManifest.load(tmp_path / "p")
    assert loaded == manifest
    assert loaded.kind is Kind.MT and loaded.engine is Engine.CT2_GENERATOR
    assert loaded.prompt.stop == ("\n",)
    assert loaded.size_bytes == sum(f.size for f in loaded.files) > 0
    assert PackManifest.from_dict(json.loads(json.dumps(loaded.to_dict()))) == loaded


def test_the_shipped_chat_template_passes():
    from tolk.models.build.convert import prompts
    from tolk.models.manifest import PromptSpec

    template = prompts.from_chat_template(
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}<|assistant|>",
        {"bos_token": "", "eos_token": ""}, ["<|end|>"])[0].template
    assert PromptSpec.from_dict({"template": template}).template == template
