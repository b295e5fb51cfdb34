"""An HF-style PyTorch eager forward of a Llama checkpoint in float32, timed: `bench eager`'s reference.

usage: python3 eager_llama.py DIR IDS_FILE LOGITS_FILE
Reads model.safetensors and config.json from DIR and the prompt's ids (one line, space-separated) from IDS_FILE; runs
one forward pass over the whole prompt keeping every hidden state and attention map, as transformers' eager attention
does with output_hidden_states and output_attentions; prints the BLAS library torch loaded (Debian's torch uses the
system's libblas.so.3: the reference BLAS is ~20x slower than OpenBLAS), then the best of three passes in seconds;
writes the last position's logits (float32, little-endian) to LOGITS_FILE, for the caller to check both computed the
same thing.
"""
import json
import math
import mmap
import os
import struct
import sys
import time

import torch


def load_safetensors(path):
    """Every tensor of the file as float32 (the file's bf16 widened), read through a private mapping."""
    dtypes = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = dtypes[entry["dtype"]]
        count = (end - start) // torch.empty(0, dtype=dtype).element_size()
        raw = torch.frombuffer(data, dtype=dtype, count=count, offset=8 + size + start)
        tensors[name] = raw.reshape(entry["shape"]).float()
    return tensors


def llama3_inverse_frequencies(config, head_dim):
    """RoPE inverse frequencies, with Llama 3's long-context rescaling when the config asks for it."""
    theta = config.get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    scaling = config.get("rope_scaling") or {}
    if scaling.get("rope_type") != "llama3":
        return inv
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    original = scaling["original_max_position_embeddings"]
    wavelength = 2 * math.pi / inv
    scaled = torch.where(wavelength > original / low, inv / factor, inv)
    smooth = (original / wavelength - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelength >= original / high) & (wavelength <= original / low)
    return torch.where(medium, smoothed, scaled)


def rms_norm(x, weight, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(w, config, ids):
    hidden_size, heads = config["hidden_size"], config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    head_dim = config.get("head_dim", hidden_size // heads)
    eps = config["rms_norm_eps"]
    t = ids.shape[0]
    positions = torch.arange(t, dtype=torch.float32)
    angles = torch.outer(positions, llama3_inverse_frequencies(config, head_dim))
    emb = torch.cat((angles, angles), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((t, t), torch.finfo(torch.float32).min).triu(1)

    h = w["model.embed_tokens.weight"][ids].unsqueeze(0)
    hidden, attentions = [h], []
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = (x @ w[p + "self_attn.q_proj.weight"].T).view(1, t, heads, head_dim).transpose(1, 2)
        k = (x @ w[p + "self_attn.k_proj.weight"].T).view(1, t, kv_heads, head_dim).transpose(1, 2)
        v = (x @ w[p + "self_attn.v_proj.weight"].T).view(1, t, kv_heads, head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(heads // kv_heads, dim=1)
        v = v.repeat_interleave(heads // kv_heads, dim=1)
        scores = q @ k.transpose(2, 3) * head_dim ** -0.5 + mask
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        attentions.append(probs)
        z = (probs @ v).transpose(1, 2).reshape(1, t, heads * head_dim)
        h = h + z @ w[p + "self_attn.o_proj.weight"].T
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = torch.nn.functional.silu(x @ w[p + "mlp.gate_proj.weight"].T)
        h = h + (gate * (x @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
        hidden.append(h)
    final = rms_norm(h, w["model.norm.weight"], eps)
    hidden[-1] = final
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return final @ head.T, hidden, attentions


def blas_library():
    """The BLAS this process mapped: a file name containing 'blas', resolved, or 'built in'."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "built in"


def main():
    directory, ids_file, logits_file = sys.argv[1:4]
    torch.set_num_threads(os.cpu_count())
    config = json.load(open(os.path.join(directory, "config.json")))
    weights = load_safetensors(os.path.join(directory, "model.safetensors"))
    ids = torch.tensor([int(i) for i in open(ids_file).read().split()])
    best = math.inf
    with torch.inference_mode():
        for _ in range(3):
            start = time.perf_counter()
            logits, hidden, attentions = forward(weights, config, ids)
            best = min(best, time.perf_counter() - start)
    last = logits[0, -1].tolist()
    with open(logits_file, "wb") as f:
        f.write(struct.pack(f"<{len(last)}f", *last))
    print(blas_library())
    print(best)


if __name__ == "__main__":
    main()
