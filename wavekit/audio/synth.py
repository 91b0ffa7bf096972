"""Synthesis: a :class:`~wavekit.audio.spec.ToneSpec` in, float frames out. Pure numpy, no I/O.

How the sines stay exact and fast
---------------------------------
Time is cut into tiles of :data:`TILE` frames. For each partial, the phase at the
start of every tile is computed from the sample index in float64 (so there is no
drift, even hours in), and the phase *within* a tile comes from one small table
per frequency. The sample is then ``sin(a + b) = sin a·cos b + cos a·sin b``: two
multiply-adds per sample instead of a transcendental call. Every sample depends only
on its own index, so any block size that is a multiple of the tile gives bit-identical
output, and a one-hour tone can be streamed in blocks with constant memory.

The mix is normalised so its peak (after fades) equals ``volume``: one pass when the
tone fits in one block, otherwise a first pass measures the peak and a second renders.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from wavekit.audio.spec import Partial, ToneSpec

TILE = 4096
"""Frames per phase tile; block sizes are multiples of it."""
ANCHOR_TILES = 256
"""Tiles between exactly computed phase anchors."""
ANCHOR_FRAMES = ANCHOR_TILES * TILE
DEFAULT_BLOCK_FRAMES = 1 << 19
"""Frames per streamed block: 2 MiB of float32 per channel, so memory stays flat."""

FloatDType = np.dtype[np.floating[Any]]
FloatFrames = npt.NDArray[np.floating[Any]]
FLOAT32: FloatDType = np.dtype(np.float32)
"""Float samples, shape ``(frames, channels)``, peak ``volume`` at most."""

_TWO_PI = 2.0 * math.pi


def compute_dtype(spec: ToneSpec) -> FloatDType:
    """float32 where it is exact enough for the output depth; float64 for 32-bit integers."""
    return np.dtype(np.float64 if spec.bits_per_sample == 32 else np.float32)


@lru_cache(maxsize=512)
def _tile_table(freq: float, sample_rate: int, dtype: FloatDType) -> tuple[np.ndarray, ...]:
    """``sin`` and ``cos`` of the phase advance over one tile, computed in float64."""
    k = np.arange(TILE, dtype=np.float64)
    phase = _TWO_PI * np.mod(k * freq / sample_rate, 1.0)
    tables = (np.sin(phase).astype(dtype), np.cos(phase).astype(dtype))
    for table in tables:
        table.flags.writeable = False
    return tables


@lru_cache(maxsize=4096)
def _anchor_cycles(freq: float, sample_rate: int, anchor: int) -> float:
    """Phase (in cycles, 0..1) at frame ``anchor * ANCHOR_FRAMES``, in exact rational arithmetic."""
    return float((Fraction(freq) * (anchor * ANCHOR_FRAMES) / sample_rate) % 1)


def _partial_tiles(
    partial: Partial, sample_rate: int, first_tile: int, n_tiles: int, dtype: FloatDType
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude-scaled ``sin`` and ``cos`` of each tile's starting phase.

    The phase at each anchor (every :data:`ANCHOR_FRAMES`) is exact; within an anchor
    span float64 adds at most ~1e-10 cycles, so hours-long tones do not drift.
    """
    tiles = np.arange(first_tile, first_tile + n_tiles)
    anchors, within = np.divmod(tiles, ANCHOR_TILES)
    unique, index = np.unique(anchors, return_inverse=True)
    exact = np.array([_anchor_cycles(partial.freq, sample_rate, int(a)) for a in unique])
    cycles = exact[index] + (within * TILE) * (partial.freq / sample_rate)
    angle = _TWO_PI * np.mod(cycles + partial.phase / _TWO_PI, 1.0)
    return (
        (partial.amplitude * np.sin(angle)).astype(dtype),
        (partial.amplitude * np.cos(angle)).astype(dtype),
    )


def mix(
    partials: Sequence[Partial],
    sample_rate: int,
    start: int,
    frames: int,
    dtype: FloatDType = FLOAT32,
) -> np.ndarray:
    """Raw sum of ``amplitude·sin(2π·freq·n/rate + phase)`` for ``start <= n < start+frames``.

    Not normalised and without fades: this is the exact signal the rest builds on.
    Returns a 1-D array of ``frames`` samples.
    """
    first_tile, offset = divmod(start, TILE)
    n_tiles = -(-(offset + frames) // TILE)
    out = np.zeros((n_tiles, TILE), dtype=dtype)
    scratch = np.empty_like(out)
    for partial in partials:
        sin_b, cos_b = _tile_table(partial.freq, sample_rate, dtype)
        sin_a, cos_a = _partial_tiles(partial, sample_rate, first_tile, n_tiles, dtype)
        np.multiply(sin_a[:, None], cos_b, out=scratch)
        out += scratch
        np.multiply(cos_a[:, None], sin_b, out=scratch)
        out += scratch
    return out.reshape(-1)[offset : offset + frames]


def channel_partials(spec: ToneSpec) -> list[tuple[Partial, ...]] | None:
    """Partials heard on each channel, or ``None`` when every channel gets the same signal."""
    if all(p.channel is None for p in spec.frequencies):
        return None
    return [
        tuple(p for p in spec.frequencies if p.channel in (None, ch))
        for ch in range(spec.number_of_channels)
    ]


def _apply_fades(spec: ToneSpec, block: np.ndarray, start: int) -> None:
    """Raised-cosine (sin²) fade-in and fade-out, in place, on frames ``start...``.

    Only the frames inside a fade are touched, so long blocks pay nothing for fades.
    The first and last frames of the tone are exactly zero: no click.
    """
    frames = block.shape[0]
    total = spec.frames
    fade_in = round(spec.fade_in * spec.sample_rate)
    fade_out = round(spec.fade_out * spec.sample_rate)
    if fade_in and start < fade_in:
        n = np.arange(start, min(fade_in, start + frames))
        gain = np.sin(0.5 * math.pi * n / fade_in) ** 2
        block[: len(n)] *= gain.astype(block.dtype)[:, None]
    if fade_out and start + frames > total - fade_out:
        n = np.arange(max(total - fade_out, start), start + frames)
        gain = np.sin(0.5 * math.pi * (total - 1 - n) / fade_out) ** 2
        block[n[0] - start :] *= gain.astype(block.dtype)[:, None]


@lru_cache(maxsize=64)
def _loudest_at_one(spec: ToneSpec) -> ToneSpec:
    """The spec with amplitudes rescaled so the largest is 1.

    Only relative amplitudes matter (the mix is normalised to ``volume``), and float32
    arithmetic on, say, amplitude 1e-45 underflows to noise that normalisation then
    blows up to full scale (found by hypothesis).
    """
    top = max(p.amplitude for p in spec.frequencies)
    if top in (0.0, 1.0):
        return spec
    partials = tuple(
        p.model_copy(update={"amplitude": p.amplitude / top}) for p in spec.frequencies
    )
    return spec.model_copy(update={"frequencies": partials})


def _raw_block(spec: ToneSpec, start: int, frames: int) -> np.ndarray:
    """Mix plus fades, before normalisation: shape ``(frames, 1)`` when every channel
    carries the same signal, else ``(frames, channels)``. Work is done once per distinct
    signal; :func:`blocks` broadcasts to all channels at the end."""
    dtype = compute_dtype(spec)
    scaled = _loudest_at_one(spec)
    per_channel = channel_partials(scaled)
    if per_channel is None:
        block = mix(scaled.frequencies, spec.sample_rate, start, frames, dtype)[:, None]
    else:
        block = np.stack(
            [mix(ps, spec.sample_rate, start, frames, dtype) for ps in per_channel], axis=1
        )
    _apply_fades(spec, block, start)
    return block


def _scaled(spec: ToneSpec, block: np.ndarray, raw_peak: float) -> FloatFrames:
    """Normalise a raw block to peak ``volume`` and spread a shared signal over every channel.

    A shared signal comes back as a zero-copy broadcast view (stride 0 on the channel
    axis), which the encoder exploits to quantise each sample once.
    """
    dtype = block.dtype.type
    gain = spec.volume / raw_peak if raw_peak > 0 else 0.0
    if gain <= np.finfo(block.dtype).max:
        block *= dtype(gain)
    else:  # a subnormal peak: the gain would overflow, so divide first (found by hypothesis)
        block /= dtype(raw_peak)
        block *= dtype(spec.volume)
    return np.broadcast_to(block, (block.shape[0], spec.number_of_channels))


def _block_ranges(spec: ToneSpec, block_frames: int) -> Iterator[tuple[int, int]]:
    if block_frames <= 0 or block_frames % TILE:
        raise ValueError(f"block_frames must be a positive multiple of {TILE}")
    for start in range(0, spec.frames, block_frames):
        yield start, min(block_frames, spec.frames - start)


def peak(spec: ToneSpec, block_frames: int = DEFAULT_BLOCK_FRAMES) -> float:
    """Peak magnitude of the faded, un-normalised mix (a full pass, constant memory)."""
    return max(
        _abs_max(_raw_block(spec, start, n)) for start, n in _block_ranges(spec, block_frames)
    )


def _abs_max(block: np.ndarray) -> float:
    """Largest magnitude without allocating ``abs(block)``."""
    return max(float(block.max()), -float(block.min()))


def blocks(
    spec: ToneSpec,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    raw_peak: float | None = None,
) -> Iterator[FloatFrames]:
    """Yield the normalised tone as float blocks of shape ``(≤block_frames, channels)``.

    Memory stays constant whatever the duration. The output is bit-identical for any
    ``block_frames`` (a multiple of :data:`TILE`). Pass ``raw_peak`` (from :func:`peak`)
    to skip the measuring pass a multi-block tone otherwise needs.
    """
    ranges = list(_block_ranges(spec, block_frames))
    if raw_peak is None and len(ranges) == 1:
        block = _raw_block(spec, 0, spec.frames)
        yield _scaled(spec, block, _abs_max(block))
        return
    raw_peak = peak(spec, block_frames) if raw_peak is None else raw_peak
    for start, n in ranges:
        yield _scaled(spec, _raw_block(spec, start, n), raw_peak)


def render(spec: ToneSpec) -> FloatFrames:
    """The whole tone in memory, shape ``(frames, channels)``; use :func:`blocks` for long tones."""
    return np.ascontiguousarray(next(blocks(spec, whole_tone_block(spec))))


def whole_tone_block(spec: ToneSpec) -> int:
    """The block size that holds the whole tone in one block (one pass, no peak pre-pass)."""
    return max(TILE, -(-spec.frames // TILE) * TILE)
