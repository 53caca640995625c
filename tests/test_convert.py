"""The converter (models.convert) on tiny random models that these tests build themselves (no downloads).

Builders below make: a 2-layer Qwen2 chat LLM with a byte-level BPE tokenizer and a
ChatML template, the same model written as an f32 GGUF with the ``gguf`` package,
a base (no chat template) Llama whose tokenizer is a sentencepiece model trained
here, and NLLB-style M2M100 and MADLAD-style T5 translators with trained
sentencepiece models whose language tokens are user-defined symbols.
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from tests.conftest import need_module

need_module("transformers", "conversion tests need the 'convert' extra")
need_module("gguf", "conversion tests need the 'convert' extra")

import ctranslate2  # noqa: E402

from tolk.models.build.convert import QUANTIZATIONS, convert_model, estimate_ram_mb  # noqa: E402
from tolk.models.build.convert import prompts  # noqa: E402
from tolk.models import prompt_wording  # noqa: E402
from tolk.models.errors import ConversionError  # noqa: E402
from tolk.models.integrity import check_pack  # noqa: E402
from tolk.models.manifest import Engine, Kind, PackManifest  # noqa: E402
from tolk.models.build.tiny import CHATML, CHATML_SPECIALS, CORPUS, build_chat_llm  # noqa: E402

SEQ2SEQ_LANGS = {"en": "eng_Latn", "es": "spa_Latn", "de": "deu_Latn"}


# ---------------------------------------------------------------- tiny model builders

def _train_sentencepiece(path: Path, *, vocab_size: int, user_symbols: list[str], model_type: str = "bpe",
                         **options) -> Path:
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 4), model_writer=model, vocab_size=vocab_size, model_type=model_type,
        character_coverage=1.0, user_defined_symbols=user_symbols, minloglevel=2, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.getvalue())
    return path


def write_gguf(hf_dir: Path, gguf_path: Path, drop: str | None = None) -> Path:
    """Write the tiny Qwen2 in ``hf_dir`` as an f32 GGUF with its tokenizer (gpt2/BPE) and chat template;
    tensors whose GGUF name starts with ``drop`` are left out (a truncated file)."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    config = json.loads((hf_dir / "config.json").read_text())
    tokenizer = json.loads((hf_dir / "tokenizer.json").read_text())
    writer = gguf.GGUFWriter(str(gguf_path), "qwen2")
    writer.add_name("Tiny Qwen2 Instruct")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_rope_freq_base(float((config.get("rope_parameters") or {}).get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    vocab = dict(tokenizer["model"]["vocab"], **{t["content"]: t["id"] for t in tokenizer["added_tokens"]})
    tokens = [tok for tok, _ in sorted(vocab.items(), key=lambda item: item[1])]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in CHATML_SPECIALS else gguf.TokenType.NORMAL
                            for t in tokens])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in tokenizer["model"]["merges"]])
    writer.add_bos_token_id(vocab["<|endoftext|>"])
    writer.add_eos_token_id(vocab["<|im_end|>"])
    writer.add_pad_token_id(vocab["<|endoftext|>"])
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, config["num_hidden_layers"])
    for name, array in load_file(str(hf_dir / "model.safetensors")).items():
        base, suffix = name.rsplit(".", 1)
        gguf_name = f"{names.get_name(base)}.{suffix}"
        if not (drop and gguf_name.startswith(drop)):
            writer.add_tensor(gguf_name, array.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return gguf_path


def build_base_llm(folder: Path) -> Path:
    """Llama causal LM with no chat template; its tokenizer is a sentencepiece ``tokenizer.model`` trained here."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaTokenizer

    _train_sentencepiece(folder / "tokenizer.model", vocab_size=400, user_symbols=["\n"], unk_id=0, bos_id=1,
                         eos_id=2, pad_id=3, normalization_rule_name="identity", remove_extra_whitespaces=False,
                         byte_fallback=True)
    tokenizer = LlamaTokenizer.from_pretrained(folder, add_bos_token=True)
    torch.manual_seed(1)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                         bos_token_id=1, eos_token_id=2, pad_token_id=3)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_nllb(folder: Path) -> Path:
    """M2M100 encoder-decoder, NLLB-style: sentencepiece.bpe.model with eng_Latn/spa_Latn/deu_Latn symbols."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    langs = list(SEQ2SEQ_LANGS.values())
    _train_sentencepiece(folder / "sentencepiece.bpe.model", vocab_size=120, user_symbols=langs,
                         bos_id=0, pad_id=1, eos_id=2, unk_id=3)
    tokenizer = NllbTokenizer.from_pretrained(folder, extra_special_tokens=langs)
    torch.manual_seed(2)
    config = M2M100Config(vocab_size=len(tokenizer), d_model=64, encoder_layers=2, decoder_layers=2,
                          encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128,
                          decoder_ffn_dim=128, max_position_embeddings=128, scale_embedding=True,
                          pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                          eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id,
                          tokenizer_class="NllbTokenizer")
    M2M100ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_madlad(folder: Path) -> Path:
    """T5 encoder-decoder, MADLAD-style: a unigram spiece.model with <2en>/<2es>/<2de> symbols."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    _train_sentencepiece(folder / "spiece.model", vocab_size=80, user_symbols=["<2en>", "<2es>", "<2de>"],
                         model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    tokenizer = T5Tokenizer.from_pretrained(folder, extra_ids=0)
    torch.manual_seed(3)
    config = T5Config(vocab_size=len(tokenizer), d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2,
                      num_heads=4, feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                      pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def chat_llm(tmp_path_factory):
    return build_chat_llm(tmp_path_factory.mktemp("hf") / "chat-llm")


@pytest.fixture(scope="module")
def chat_pack(chat_llm, tmp_path_factory):
    out = tmp_path_factory.mktemp("packs") / "chat"
    return out, convert_model(chat_llm, out, pack_id="tiny-chat", quantization="float32", license="Apache-2.0",
                              languages=["en", "es", "de"], source_desc="tiny test model")


def _tokens(pack_dir: Path, text: str) -> list[str]:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(pack_dir / "tokenizer.json")).encode(text, add_special_tokens=False).tokens


def _prompt(manifest: PackManifest, text: str = "where is the train station?") -> str:
    return prompts.runtime_environment().from_string(manifest.prompt.template).render(
        source="English", target="Spanish", text=text, context=[])


# ---------------------------------------------------------------- decoder LLMs

def test_chat_llm_becomes_a_generator_pack(chat_pack):
    out, manifest = chat_pack
    assert manifest.kind is Kind.MT and manifest.engine is Engine.CT2_GENERATOR
    assert manifest.languages == ("en", "es", "de") and manifest.license == "Apache-2.0"
    assert manifest.source == "tiny test model" and manifest.version == "1"
    legacy = ("<|im_start|>system\nYou are a professional translator.<|im_end|>\n"
              "<|im_start|>user\n" + prompts.CONTEXT + "Translate this {{ source }} text into {{ target }}. "
              "Output only the translation.\n\n{{ source }}: {{ text }}\n{{ target }}:<|im_end|>\n"
              "<|im_start|>assistant\n")
    # today's words (models/prompt_wording.py), exactly what a pack converted with the old words is upgraded to
    assert manifest.prompt.template == prompt_wording.upgrade(legacy) != legacy
    assert "<|im_start|>system\n" + prompt_wording.as_template(prompt_wording.SYSTEM) in manifest.prompt.template
    assert manifest.prompt.stop == ("<|im_end|>",)  # end of turn; here also the eos token
    assert manifest.settings == {"tokenizer": "tokenizer.json", "bos_token": "<|endoftext|>", "add_bos": False,
                                 "eos_token": "<|im_end|>", "architecture": "qwen2", "prompt_style": "chat",
                                 "quantization": "float32"}
    names = {f.path for f in manifest.files}
    assert names == {"model.bin", "config.json", "vocabulary.json", "tokenizer.json", "tokenizer_config.json",
                     "chat_template.jinja", "generation_config.json"}
    assert all(Path(n).suffix in {".bin", ".json", ".jinja"} for n in names)
    assert check_pack(out) == [] and PackManifest.load(out) == manifest
    assert manifest.ram_mb == estimate_ram_mb(out / "model.bin")


def test_chat_llm_pack_generates(chat_pack):
    out, manifest = chat_pack
    generator = ctranslate2.Generator(str(out))
    (result,) = generator.generate_batch([_tokens(out, _prompt(manifest))], max_length=8, sampling_topk=1,
                                         include_prompt_in_result=False)
    assert len(result.sequences_ids[0]) > 0


def test_chat_llm_pack_runs_in_the_translation_engine(chat_pack):
    from tolk.models.translate import load_translator

    out, manifest = chat_pack
    translator = load_translator(out, manifest)
    (first,) = translator.translate(["where is the train station?"], "en", "es")
    (again,) = translator.translate(["where is the train station?"], "en", "es")
    assert first.tokens_out > 0 and first.text == again.text


def test_default_quantization_is_int8_and_languages_default_to_registry(chat_llm, tmp_path):
    from tolk.models import languages

    manifest = convert_model(chat_llm, tmp_path / "pack", pack_id="tiny-int8")
    assert manifest.settings["quantization"] == "int8"
    assert manifest.languages == tuple(lang.code for lang in languages.LANGUAGES)
    assert manifest.license == "unknown" and check_pack(tmp_path / "pack") == []
    ctranslate2.Generator(str(tmp_path / "pack"), compute_type="int8")


@pytest.mark.parametrize("quantization", [q for q in QUANTIZATIONS if q not in ("int8", "float32")])
def test_other_quantizations(chat_llm, tmp_path, quantization):
    manifest = convert_model(chat_llm, tmp_path / "pack", pack_id="tiny-q", quantization=quantization)
    assert manifest.settings["quantization"] == quantization and check_pack(tmp_path / "pack") == []
    assert ctranslate2.Generator(str(tmp_path / "pack"), compute_type="auto")


def test_gguf_converts_like_the_hf_folder(chat_llm, chat_pack, tmp_path):
    out, hf_manifest = chat_pack
    gguf_file = write_gguf(chat_llm, tmp_path / "tiny-qwen2-f32.gguf")
    work = tmp_path / "work"
    messages: list[str] = []
    manifest = convert_model(gguf_file, tmp_path / "pack", pack_id="tiny-gguf", quantization="float32",
                             languages=["en", "es"], work_dir=work, log_progress=messages.append)
    assert manifest.engine is Engine.CT2_GENERATOR and manifest.source == "tiny-qwen2-f32.gguf"
    assert manifest.prompt == hf_manifest.prompt  # chat template and stop tokens survived the GGUF
    assert manifest.settings["tokenizer"] == "tokenizer.json" and manifest.settings["architecture"] == "qwen2"
    assert "chat_template.jinja" in {f.path for f in manifest.files}
    assert check_pack(tmp_path / "pack") == []
    assert list(work.iterdir()) == []  # the float32 intermediate is deleted
    assert any("dequantising" in m for m in messages)

    prompt = _prompt(manifest)
    assert _tokens(tmp_path / "pack", prompt) == _tokens(out, prompt)
    results = [ctranslate2.Generator(str(d)).generate_batch([_tokens(d, prompt)], max_length=6, sampling_topk=1,
                                                             return_scores=True)[0]
               for d in (out, tmp_path / "pack")]
    assert results[0].sequences_ids == results[1].sequences_ids  # same weights after GGUF -> HF -> CT2
    assert results[0].scores[0] == pytest.approx(results[1].scores[0], abs=1e-4)


def test_base_llm_gets_a_few_shot_prompt_and_its_sentencepiece_model(tmp_path):
    from tolk.models.translate import load_translator

    hf = build_base_llm(tmp_path / "hf")
    manifest = convert_model(hf, tmp_path / "pack", pack_id="tiny-base", languages=["en", "es", "fr"])
    assert manifest.settings["prompt_style"] == "few-shot"
    assert manifest.settings["tokenizer"] == "tokenizer.model" == manifest.settings["sentencepiece"]
    assert manifest.settings["add_bos"] is True and manifest.settings["bos_token"] == "<s>"
    assert manifest.prompt.stop == ("\n", "</s>")
    rendered = _prompt(manifest, "my son has a fever.")
    assert rendered == ("Translate from English to Spanish.\n"
                        "English: Good morning.\nSpanish: Buenos días.\n"
                        "English: Where is the station?\nSpanish: ¿Dónde está la estación?\n"
                        "English: my son has a fever.\nSpanish:")
    assert "tokenizer.model" in {f.path for f in manifest.files} and check_pack(tmp_path / "pack") == []
    (out,) = load_translator(tmp_path / "pack", manifest).translate(["where is the train station?"], "en", "es")
    assert out.tokens_in > 0 and "\n" not in out.text


# ---------------------------------------------------------------- encoder-decoder translators

def test_nllb_style_translator_with_trained_sentencepiece(tmp_path):
    from tolk.models.translate import load_translator

    hf = build_nllb(tmp_path / "hf")
    manifest = convert_model(hf, tmp_path / "pack", pack_id="tiny-nllb", languages=["en", "es", "de", "fr"])
    assert manifest.engine is Engine.CT2_TRANSLATOR and manifest.prompt is None
    assert manifest.languages == ("en", "es", "de")  # no fra_Latn token in this model
    assert manifest.settings["language_tokens"] == SEQ2SEQ_LANGS
    assert manifest.settings["tokenizer"] == "sentencepiece.bpe.model"
    assert (manifest.settings["prefix_style"], manifest.settings["source_prefix"],
            manifest.settings["target_prefix"]) == ("nllb", "source", True)
    assert check_pack(tmp_path / "pack") == []
    assert "spa_Latn" in json.loads((tmp_path / "pack" / "shared_vocabulary.json").read_text())

    import sentencepiece

    pieces = sentencepiece.SentencePieceProcessor(
        model_file=str(tmp_path / "pack" / "sentencepiece.bpe.model")).encode("where is the train station?",
                                                                               out_type=str)
    translator = ctranslate2.Translator(str(tmp_path / "pack"))
    (result,) = translator.translate_batch([["eng_Latn", *pieces, "</s>"]], target_prefix=[["spa_Latn"]],
                                           max_decoding_length=8, beam_size=1)
    assert result.hypotheses[0][0] == "spa_Latn" and len(result.hypotheses[0]) > 1

    (out,) = load_translator(tmp_path / "pack", manifest).translate(["hello world"], "en", "de")
    assert out.tokens_out > 0 and "deu_Latn" not in out.text


def test_madlad_style_t5_translator(tmp_path):
    from tolk.models.translate import load_translator

    hf = build_madlad(tmp_path / "hf")
    manifest = convert_model(hf, tmp_path / "pack", pack_id="tiny-madlad", languages=["en", "es", "de", "ja"])
    assert manifest.engine is Engine.CT2_TRANSLATOR and manifest.languages == ("en", "es", "de")
    assert manifest.settings["language_tokens"] == {"en": "<2en>", "es": "<2es>", "de": "<2de>"}
    assert manifest.settings["tokenizer"] == "spiece.model"
    assert (manifest.settings["prefix_style"], manifest.settings["source_prefix"],
            manifest.settings["target_prefix"]) == ("madlad", "target", False)
    assert check_pack(tmp_path / "pack") == []
    translator = ctranslate2.Translator(str(tmp_path / "pack"))
    (result,) = translator.translate_batch([["<2es>", "▁hello", "▁world", "</s>"]], max_decoding_length=6,
                                           beam_size=1)
    assert len(result.hypotheses[0]) > 0

    (out,) = load_translator(tmp_path / "pack", manifest).translate(["hello world"], "en", "es")
    assert out.tokens_out > 0 and "<2es>" not in out.text


# ---------------------------------------------------------------- clear errors

def test_bad_quantization_is_refused_before_any_work(chat_llm, tmp_path):
    with pytest.raises(ConversionError, match="quantization 'int3' is not supported; choose one of int8"):
        convert_model(chat_llm, tmp_path / "pack", pack_id="x", quantization="int3")
    assert not (tmp_path / "pack").exists()


def test_non_empty_output_folder_is_refused_and_left_alone(chat_llm, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ConversionError, match="output folder is not empty"):
        convert_model(chat_llm, tmp_path / "full", pack_id="x")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_unsupported_sources_are_clear_errors(tmp_path):
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text('{"model_type": "bert", "architectures": ["BertModel"]}')
    with pytest.raises(ConversionError, match="architecture 'bert' is not supported; supported are decoder LLMs"):
        convert_model(bert, tmp_path / "a", pack_id="x")
    (tmp_path / "weights.pt").write_bytes(b"\x80\x04")
    with pytest.raises(ConversionError, match="expected a Hugging Face model folder or a .gguf file"):
        convert_model(tmp_path / "weights.pt", tmp_path / "b", pack_id="x")
    with pytest.raises(ConversionError, match="no such file or folder"):
        convert_model(tmp_path / "missing", tmp_path / "c", pack_id="x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConversionError, match="no config.json"):
        convert_model(tmp_path / "empty", tmp_path / "d", pack_id="x")


def test_unsupported_gguf_architecture_is_refused_from_metadata(tmp_path):
    import gguf

    writer = gguf.GGUFWriter(str(tmp_path / "bert.gguf"), "bert")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ConversionError, match="GGUF architecture 'bert' is not supported"):
        convert_model(tmp_path / "bert.gguf", tmp_path / "out", pack_id="x")
    (tmp_path / "junk.gguf").write_bytes(b"not a gguf file at all")
    with pytest.raises(ConversionError, match="not a readable GGUF file"):
        convert_model(tmp_path / "junk.gguf", tmp_path / "out", pack_id="x")


def test_gguf_missing_weights_is_refused_not_filled_with_random_values(chat_llm, tmp_path):
    gguf_file = write_gguf(chat_llm, tmp_path / "truncated.gguf", drop="blk.1.")
    with pytest.raises(ConversionError, match=r"lacks weights the model needs \(\d+ missing, e.g. model.layers.1"):
        convert_model(gguf_file, tmp_path / "pack", pack_id="x", work_dir=tmp_path / "work")
    assert not (tmp_path / "pack").exists() and list((tmp_path / "work").iterdir()) == []


def test_unknown_language_code_is_refused(chat_llm, tmp_path):
    with pytest.raises(ConversionError, match="unknown language code 'xx'"):
        convert_model(chat_llm, tmp_path / "pack", pack_id="x", languages=["en", "xx"])


def test_failure_after_conversion_leaves_no_files(tmp_path):
    hf = build_nllb(tmp_path / "hf")
    (tmp_path / "pack").mkdir()
    with pytest.raises(ConversionError, match="language tokens for 1 of the requested languages"):
        convert_model(hf, tmp_path / "pack", pack_id="x", languages=["en", "fr", "ja"])
    assert list((tmp_path / "pack").iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tolk-convert")] == []


def test_bad_pack_id_is_a_conversion_error(chat_llm, tmp_path):
    with pytest.raises(ConversionError, match="pack id 'Bad Id'"):
        convert_model(chat_llm, tmp_path / "pack", pack_id="Bad Id", quantization="float32")
    assert not (tmp_path / "pack").exists()


# ---------------------------------------------------------------- prompt building

def test_escape_literal_renders_to_itself():
    env = prompts.runtime_environment()
    for text in ["plain", "{{ x }}", "{% if %}", "{# c #}", "a{{b}}c{%d%}e{#f#}", "}} %} #}", "{", "{{{{"]:
        assert env.from_string(prompts.escape_literal(text)).render() == text


def test_chat_template_with_bos_and_literal_braces():
    template = ("{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m['role'] }}\n"
                "{{ m['content'] | trim }}{{ '{{x}}' }}<end_of_turn>\n{% endfor %}"
                "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
    special = {"bos_token": "<bos>", "eos_token": "<eos>"}
    vocab = {"<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"}
    stop = prompts.end_of_turn_tokens(template, special, vocab) + ["<eos>"]
    spec, leading_bos = prompts.from_chat_template(template, special, stop)
    assert leading_bos and not spec.template.startswith("<bos>")
    assert spec.stop == ("<end_of_turn>", "<eos>")
    rendered = prompts.runtime_environment().from_string(spec.template).render(
        source="German", target="French", text="Guten Tag", context=[])
    def filled(words):
        return words.replace("__SRC__", "German").replace("__TGT__", "French").replace("__TEXT__", "Guten Tag") \
            .replace("__CONTEXT__", "")

    assert rendered == (f"<start_of_turn>system\n{filled(prompt_wording.SYSTEM)}{{{{x}}}}<end_of_turn>\n"
                        f"<start_of_turn>user\n{filled(prompt_wording.INSTRUCTION)}{{{{x}}}}<end_of_turn>\n"
                        "<start_of_turn>model\n")
    assert "<text>\nGuten Tag\n</text>" in rendered


def test_chat_template_that_drops_the_message_is_refused():
    with pytest.raises(ConversionError, match="drops the user's message"):
        prompts.from_chat_template("<|im_start|>assistant\n", {}, [])


def test_few_shot_prompt_without_examples_and_with_context():
    spec = prompts.few_shot(["<eos>"])
    assert spec.stop == ("\n", "<eos>")
    env = prompts.runtime_environment()
    rendered = env.from_string(spec.template).render(source="Welsh", target="English", text="Bore da",
                                                     context=[("Diolch", "Thank you")])
    assert rendered == "Translate from Welsh to English.\nWelsh: Diolch\nEnglish: Thank you\nWelsh: Bore da\nEnglish:"


def test_ram_estimate(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\0" * (10 * 2**20))
    assert estimate_ram_mb(tmp_path / "model.bin") == 76  # 10 MB x 1.15 + 64, rounded up


def test_converter_imports_no_heavy_modules_at_import_time():
    import subprocess
    import sys

    code = ("import sys, tolk.models.build.convert; "
            "print(sorted(m for m in ('torch', 'transformers', 'gguf', 'ctranslate2') if m in sys.modules))")
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]", out.stdout
    assert time.perf_counter() - started < 20


def test_chat_prompt_carries_earlier_turns_only_when_given():
    template = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}<|assistant|>"
    spec, _ = prompts.from_chat_template(template, {"bos_token": "", "eos_token": ""}, ["<|end|>"])
    env = prompts.runtime_environment()
    plain = env.from_string(spec.template).render(source="English", target="German", text="Thanks.", context=[])
    assert "Earlier" not in plain and "<text>\nThanks.\n</text>" in plain
    with_context = env.from_string(spec.template).render(source="English", target="German", text="Thanks.",
                                                         context=[("Hello.", "Hallo.")])
    assert "Earlier in this conversation:\nEnglish: Hello.\nGerman: Hallo.\n\nTranslate the text" in with_context
