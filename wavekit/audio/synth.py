"""Synthesis: a :class:`~wavekit.audio.spec.ToneSpec` in, float frames out. Pure numpy, no I/O.

How the signal stays exact and fast
-----------------------------------
A tone is the sum of up to four kinds of part, each computed from the sample index
alone, so any block size that is a multiple of :data:`TILE` gives bit-identical output
and an hour-long tone streams in blocks with constant memory:

- **periodic partials** (:mod:`.waveforms`): constant partials whose decimal
  frequencies repeat within a short period (any integer-Hz chord repeats within one
  second) are summed once, for one period, by an inverse FFT in float64 — sines and
  band-limited waves alike — and then repeated (the encoder quantises the period once);
- **other sines**, tile by tile (ADR 0001): the phase at the start of every tile of
  4096 frames comes from exact rational anchors, the phase within a tile from one small
  table per frequency, and the sample is ``sin a·cos b + cos a·sin b``;
- **other band-limited waves** at the same exact phase, through a Taylor table;
- **sweeps** (:mod:`.sweeps`) and **noise** (:mod:`.noise`).

The arithmetic runs in float32 for 8 and 16-bit output (exact far below their
quantisation step) and in float64 for 24 and 32-bit integers and float32 files, so
every depth reaches its quantisation limit. Work is done in chunks that stay in the
CPU cache. The mix is normalised so its peak (after fades) equals ``volume``: one pass
when the tone fits in one block, otherwise a first pass measures the peak (a periodic
tone's peak is its period's) and a second renders.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from wavekit.audio import waveforms
from wavekit.audio.noise import NoiseSource
from wavekit.audio.spec import Partial, ToneSpec
from wavekit.audio.sweeps import SweepPhase, add_sweep

TILE = 4096
"""Frames per phase tile; block sizes are multiples of it."""
ANCHOR_TILES = 256
"""Tiles between exactly computed phase anchors."""
ANCHOR_FRAMES = ANCHOR_TILES * TILE
DEFAULT_BLOCK_FRAMES = 1 << 19
"""Frames per streamed block: 2 MiB of float32 per channel, so memory stays flat."""
CHUNK_TILES = 8
"""Tiles computed at a time (128 KiB of float32): the working set stays in cache."""

FloatDType = np.dtype[np.floating[Any]]
FloatFrames = npt.NDArray[np.floating[Any]]
FLOAT32: FloatDType = np.dtype(np.float32)
FLOAT64: FloatDType = np.dtype(np.float64)
"""Float samples, shape ``(frames, channels)``, peak ``volume`` at most."""

_TWO_PI = 2.0 * math.pi


def compute_dtype(spec: ToneSpec) -> FloatDType:
    """float32 where it is exact enough for the output depth (8, 16 bits); float64 otherwise.

    A float32 stage before 24-bit quantisation cost 3.4 dB of SNR (its rounding is
    about the size of a 24-bit step); float64 keeps 24 and 32 bits at their limit.
    """
    return FLOAT32 if spec.bits_per_sample in (8, 16) else FLOAT64


def output_dtype(spec: ToneSpec) -> FloatDType:
    """What :func:`blocks` yields: float32 except for 24 and 32-bit integers."""
    return FLOAT64 if spec.bits_per_sample in (24, 32) else FLOAT32


@lru_cache(maxsize=512)
def _tile_table(freq: float, sample_rate: int, dtype: FloatDType) -> tuple[np.ndarray, ...]:
    """``sin`` and ``cos`` of the phase advance over one tile, computed in float64."""
    k = np.arange(TILE, dtype=np.float64)
    phase = _TWO_PI * np.mod(k * freq / sample_rate, 1.0)
    tables = (np.sin(phase).astype(dtype), np.cos(phase).astype(dtype))
    for table in tables:
        table.flags.writeable = False
    return tables


@lru_cache(maxsize=64)
def _cycle_table(freq: float, sample_rate: int) -> np.ndarray:
    """Phase advance (cycles mod 1) over one tile, float64, for the Taylor tables."""
    table = np.mod(np.arange(TILE, dtype=np.float64) * freq / sample_rate, 1.0)
    table.flags.writeable = False
    return table


@lru_cache(maxsize=4096)
def _anchor_cycles(freq: float, sample_rate: int, anchor: int) -> float:
    """Phase (in cycles, 0..1) at frame ``anchor * ANCHOR_FRAMES``, in exact rational arithmetic."""
    return float((Fraction(freq) * (anchor * ANCHOR_FRAMES) / sample_rate) % 1)


def _tile_cycles(partial: Partial, sample_rate: int, first_tile: int, n_tiles: int) -> np.ndarray:
    """Phase (cycles in 0..1, with the partial's phase) at the start of each tile.

    The phase at each anchor (every :data:`ANCHOR_FRAMES`) is exact; within an anchor
    span float64 adds at most ~1e-10 cycles, so hours-long tones do not drift.
    """
    tiles = np.arange(first_tile, first_tile + n_tiles)
    anchors, within = np.divmod(tiles, ANCHOR_TILES)
    unique, index = np.unique(anchors, return_inverse=True)
    exact = np.array([_anchor_cycles(partial.freq, sample_rate, int(a)) for a in unique])
    cycles = exact[index] + (within * TILE) * (partial.freq / sample_rate)
    return np.asarray(np.mod(cycles + partial.phase / _TWO_PI, 1.0))


def _partial_tiles(
    partial: Partial, sample_rate: int, first_tile: int, n_tiles: int, dtype: FloatDType
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude-scaled ``sin`` and ``cos`` of each tile's starting phase."""
    angle = _TWO_PI * _tile_cycles(partial, sample_rate, first_tile, n_tiles)
    return (
        (partial.amplitude * np.sin(angle)).astype(dtype),
        (partial.amplitude * np.cos(angle)).astype(dtype),
    )


def _chunks(start: int, frames: int) -> Iterator[tuple[int, int, int, int]]:
    """Cut frames ``start ... start+frames`` at tile-group boundaries.

    Yields ``(first_tile, n_tiles, offset, count)``: the group's tiles, where the
    wanted frames begin inside it, and how many of them it holds.
    """
    position, stop = start, start + frames
    while position < stop:
        first_tile, offset = divmod(position, TILE)
        group_end = (first_tile // CHUNK_TILES + 1) * CHUNK_TILES * TILE
        count = min(stop, group_end) - position
        yield first_tile, -(-(offset + count) // TILE), offset, count
        position += count


def _add_sines(out: np.ndarray, partials: Sequence[Partial], sample_rate: int, start: int) -> None:
    """Add ``Σ amplitude·sin(2π·freq·n/rate + phase)`` to the 1-D ``out`` (frames ``start...``)."""
    if not partials:
        return
    dtype = out.dtype
    first_tile = start // TILE
    n_tiles = -(-(start + out.shape[0]) // TILE) - first_tile
    starts = [_partial_tiles(p, sample_rate, first_tile, n_tiles, dtype) for p in partials]
    tables = [_tile_table(p.freq, sample_rate, dtype) for p in partials]
    acc = np.empty((CHUNK_TILES, TILE), dtype=dtype)
    scratch = np.empty_like(acc)
    done = 0
    for tile, count_tiles, offset, count in _chunks(start, out.shape[0]):
        rows = slice(tile - first_tile, tile - first_tile + count_tiles)
        a, s = acc[:count_tiles], scratch[:count_tiles]
        for i, ((sin_a, cos_a), (sin_b, cos_b)) in enumerate(zip(starts, tables, strict=True)):
            np.multiply(sin_a[rows, None], cos_b, out=a if i == 0 else s)
            if i:
                a += s
            np.multiply(cos_a[rows, None], sin_b, out=s)
            a += s
        out[done : done + count] += a.reshape(-1)[offset : offset + count]
        done += count


def mix(
    partials: Sequence[Partial],
    sample_rate: int,
    start: int,
    frames: int,
    dtype: FloatDType = FLOAT32,
) -> np.ndarray:
    """Raw sum of ``amplitude·sin(2π·freq·n/rate + phase)`` for ``start <= n < start+frames``.

    The tiled sum of ADR 0001, which :class:`Renderer` uses for sines that never repeat.
    Not normalised and without fades; returns a 1-D array of ``frames`` samples.
    """
    out = np.zeros(frames, dtype=dtype)
    _add_sines(out, partials, sample_rate, start)
    return out


def _add_waves(out: np.ndarray, partials: Sequence[Partial], sample_rate: int, start: int) -> None:
    """Add band-limited square/triangle/sawtooth partials at their exact phase (Taylor tables)."""
    for partial in partials:
        count = waveforms.harmonic_count(Fraction(partial.freq), sample_rate)
        table = waveforms.taylor_table(partial.waveform, count, out.dtype)
        within = _cycle_table(partial.freq, sample_rate)
        first_tile = start // TILE
        n_tiles = -(-(start + out.shape[0]) // TILE) - first_tile
        tile_cycles = _tile_cycles(partial, sample_rate, first_tile, n_tiles)
        done = 0
        for tile, count_tiles, offset, count in _chunks(start, out.shape[0]):
            rows = tile_cycles[tile - first_tile : tile - first_tile + count_tiles]
            cycles = np.add.outer(rows, within).reshape(-1)[offset : offset + count]
            table.evaluate(cycles, out[done : done + count], partial.amplitude)
            done += count


def _add_sweeps(out: np.ndarray, sweeps: Sequence[tuple[SweepPhase, float]], start: int) -> None:
    done = 0
    for tile, _, offset, count in _chunks(start, out.shape[0]):
        for phase, amplitude in sweeps:
            add_sweep(phase, amplitude, out[done : done + count], tile, offset)
        done += count


def channel_partials(spec: ToneSpec) -> list[tuple[Partial, ...]] | None:
    """Partials heard on each channel, or ``None`` when every channel gets the same signal."""
    if all(p.channel is None for p in spec.frequencies):
        return None
    return [
        tuple(p for p in spec.frequencies if p.channel in (None, ch))
        for ch in range(spec.number_of_channels)
    ]


@dataclass(frozen=True)
class _Column:
    """What one distinct signal is made of, beyond its share of the periodic table."""

    repeats: bool = False  # has partials in the periodic table
    sines: tuple[Partial, ...] = ()
    waves: tuple[Partial, ...] = ()
    sweeps: tuple[Partial, ...] = ()


@dataclass(frozen=True)
class Periodic:
    """The partials that repeat within ``period`` frames, summed for one period.

    ``table`` holds that period for each distinct signal, shape ``(signals, period)``,
    in the compute dtype, before fades and normalisation. :func:`periodic` returns it
    only when it is the whole tone (no sweep, no noise, no other partial).
    """

    period: int
    table: np.ndarray = field(repr=False)

    @property
    def raw_peak(self) -> float:
        return _abs_max(self.table)


@dataclass(frozen=True)
class _Layout:
    """How a spec is synthesised: per distinct signal, which method makes which partial."""

    columns: tuple[_Column, ...]
    periodic: Periodic | None
    only_periodic: bool


@lru_cache(maxsize=4)  # a period table is at most 16 MiB
def _layout(spec: ToneSpec) -> _Layout:
    scaled = _loudest_at_one(spec)
    dtype = compute_dtype(spec)
    per_channel = channel_partials(scaled)
    columns = [scaled.frequencies] if per_channel is None else per_channel
    period, chosen_ids = waveforms.periodic_partials(
        scaled.frequencies, spec.sample_rate, spec.frames, len(columns)
    )
    chosen = {id(scaled.frequencies[i]) for i in chosen_ids}
    built = []
    for partials in columns:
        rest = [p for p in partials if id(p) not in chosen]
        built.append(
            _Column(
                repeats=len(rest) < len(partials),
                sines=tuple(p for p in rest if not p.is_sweep and p.waveform == "sine"),
                waves=tuple(p for p in rest if not p.is_sweep and p.waveform != "sine"),
                sweeps=tuple(p for p in rest if p.is_sweep),
            )
        )
    periodic = None
    if chosen:
        chosen_columns = [[p for p in partials if id(p) in chosen] for partials in columns]
        table = waveforms.periodic_table(chosen_columns, spec.sample_rate, period)
        table = np.ascontiguousarray(table.T, dtype=dtype)
        table.flags.writeable = False
        periodic = Periodic(period, table)
    only = (
        periodic is not None
        and spec.noise is None
        and not any(c.sines or c.waves or c.sweeps for c in built)
    )
    return _Layout(tuple(built), periodic, only)


def _repeat_into(out: np.ndarray, period: np.ndarray, start: int) -> None:
    """Fill ``out`` (1-D) with ``period`` repeated, beginning at phase ``start mod len``."""
    length, frames = period.shape[0], out.shape[0]
    phase = start % length
    first = min(length - phase, frames)
    out[:first] = period[phase : phase + first]
    filled = first
    if filled < frames:
        head = min(length, frames - filled)
        out[filled : filled + head] = period[:head]
        filled += head
    while filled < frames:  # copy what is there (whole periods), doubling each time
        size = min(filled - first, frames - filled)
        out[filled : filled + size] = out[first : first + size]
        filled += size


class Renderer:
    """Raw (un-normalised) frames of one spec; holds the noise segments between blocks."""

    def __init__(self, spec: ToneSpec) -> None:
        self.spec = spec
        self.layout = _layout(spec)
        self.dtype = compute_dtype(spec)
        frames, rate = spec.frames, spec.sample_rate
        self.sweeps = [
            [(SweepPhase(p, rate, frames), p.amplitude) for p in column.sweeps]
            for column in self.layout.columns
        ]
        self.noise = None
        if spec.noise is not None:
            amplitude = _loudest_at_one(spec).noise.amplitude  # type: ignore[union-attr]
            self.noise = NoiseSource(
                spec.noise.color, amplitude, spec.seed, rate, spec.number_of_channels
            )
        self.noise_only = not any(
            c.repeats or c.sines or c.waves or c.sweeps for c in self.layout.columns
        )

    def raw(self, start: int, frames: int) -> np.ndarray:
        """Mix plus fades, before normalisation: shape ``(frames, 1)`` when every channel
        carries the same signal, else ``(frames, channels)``."""
        spec, layout = self.spec, self.layout
        signals = len(layout.columns)
        width = spec.number_of_channels if self.noise is not None else signals
        if self.noise is not None and self.noise_only:
            block = np.empty((width, frames), dtype=self.dtype)
            self.noise.add_to(block, start, fresh=True)  # writes every frame: no zeroing
            _apply_fades(spec, block.T, start)
            return block.T
        block = np.zeros((width, frames), dtype=self.dtype)
        rate = spec.sample_rate
        for index, column in enumerate(layout.columns):
            out = block[index]
            if layout.periodic is not None and column.repeats:
                _repeat_into(out, layout.periodic.table[index], start)
            _add_sines(out, column.sines, rate, start)
            _add_waves(out, column.waves, rate, start)
            if self.sweeps[index]:
                _add_sweeps(out, self.sweeps[index], start)
        if self.noise is not None:
            if signals < width:
                block[1:] = block[0]
            self.noise.add_to(block, start)
        frames_first = block.T
        _apply_fades(spec, frames_first, start)
        return frames_first


def _apply_fades(spec: ToneSpec, block: np.ndarray, start: int) -> None:
    """Raised-cosine (sin²) fade-in and fade-out, in place, on frames ``start...``.

    Only the frames inside a fade are touched, so long blocks pay nothing for fades.
    The first and last frames of the tone are exactly zero: no click.
    """
    frames = block.shape[0]
    total = spec.frames
    fade_in, fade_out = fade_frames(spec)
    if fade_in and start < fade_in:
        n = np.arange(start, min(fade_in, start + frames))
        gain = np.sin(0.5 * math.pi * n / fade_in) ** 2
        block[: len(n)] *= gain.astype(block.dtype)[:, None]
    if fade_out and start + frames > total - fade_out:
        n = np.arange(max(total - fade_out, start), start + frames)
        gain = np.sin(0.5 * math.pi * (total - 1 - n) / fade_out) ** 2
        block[n[0] - start :] *= gain.astype(block.dtype)[:, None]


def fade_frames(spec: ToneSpec) -> tuple[int, int]:
    """Frames of fade-in and fade-out."""
    return round(spec.fade_in * spec.sample_rate), round(spec.fade_out * spec.sample_rate)


@lru_cache(maxsize=64)
def _loudest_at_one(spec: ToneSpec) -> ToneSpec:
    """The spec with amplitudes rescaled so the largest (noise included) is 1.

    Only relative amplitudes matter (the mix is normalised to ``volume``), and float32
    arithmetic on, say, amplitude 1e-45 underflows to noise that normalisation then
    blows up to full scale (found by hypothesis).
    """
    amplitudes = [p.amplitude for p in spec.frequencies]
    if spec.noise is not None:
        amplitudes.append(spec.noise.amplitude)
    top = max(amplitudes)
    if top in (0.0, 1.0):
        return spec
    partials = tuple(
        p.model_copy(update={"amplitude": p.amplitude / top}) for p in spec.frequencies
    )
    update: dict[str, Any] = {"frequencies": partials}
    if spec.noise is not None:
        update["noise"] = spec.noise.model_copy(update={"amplitude": spec.noise.amplitude / top})
    return spec.model_copy(update=update)


def periodic(spec: ToneSpec) -> Periodic | None:
    """The repeating period when the whole tone (fades aside) is one, else ``None``."""
    layout = _layout(spec)
    return layout.periodic if layout.only_periodic else None


def scale(spec: ToneSpec, block: np.ndarray, raw_peak: float) -> FloatFrames:
    """Normalise a raw block to peak ``volume`` and spread a shared signal over every channel.

    A shared signal comes back as a zero-copy broadcast view (stride 0 on the channel
    axis), which the encoder exploits to quantise each sample once.
    """
    scale_into(spec, block, block, raw_peak)
    block = block.astype(output_dtype(spec), copy=False)
    return np.broadcast_to(block, (block.shape[0], spec.number_of_channels))


def scale_into(spec: ToneSpec, raw: np.ndarray, out: np.ndarray, raw_peak: float) -> None:
    """``out[...] = raw`` normalised to peak ``volume`` (both ``(frames, signals)``, the
    compute dtype; ``out`` may be ``raw``), with exactly the arithmetic of :func:`scale`.

    Column by column: numpy walks a column-major source written into a frame-major
    ``out`` element pair by element pair, 5× slower than one strided loop per column.
    """
    dtype = raw.dtype.type
    gain = spec.volume / raw_peak if raw_peak > 0 else 0.0
    columns = [(raw, out)] if raw is out else zip(raw.T, out.T, strict=True)
    for source, target in columns:
        if gain <= np.finfo(raw.dtype).max:
            np.multiply(source, dtype(gain), out=target)
        else:  # a subnormal peak: the gain would overflow, so divide first (hypothesis found it)
            np.divide(source, dtype(raw_peak), out=target)
            target *= dtype(spec.volume)


def _block_ranges(spec: ToneSpec, block_frames: int) -> Iterator[tuple[int, int]]:
    if block_frames <= 0 or block_frames % TILE:
        raise ValueError(f"block_frames must be a positive multiple of {TILE}")
    for start in range(0, spec.frames, block_frames):
        yield start, min(block_frames, spec.frames - start)


def peak(spec: ToneSpec, block_frames: int = DEFAULT_BLOCK_FRAMES) -> float:
    """Peak magnitude of the faded, un-normalised mix (a full pass, constant memory).

    A periodic tone with at least one whole period between its fades peaks at its
    period's peak (fades only scale down), so that takes no pass at all.
    """
    repeating = periodic(spec)
    fade_in, fade_out = fade_frames(spec)
    if repeating is not None and spec.frames - fade_in - fade_out >= repeating.period:
        return repeating.raw_peak
    renderer = Renderer(spec)
    return max(_abs_max(renderer.raw(start, n)) for start, n in _block_ranges(spec, block_frames))


def _abs_max(block: np.ndarray) -> float:
    """Largest magnitude without allocating ``abs(block)``."""
    return max(float(block.max()), -float(block.min()))


def raw_blocks(
    spec: ToneSpec,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    raw_peak: float | None = None,
) -> Iterator[tuple[np.ndarray, float]]:
    """Yield ``(raw block, raw peak)``: the faded mix before normalisation, and the peak
    that normalises it (measured by a first pass when the tone needs several blocks).

    For :func:`blocks` and for the encoder, which normalises and quantises a block in
    cache-sized pieces (``scale`` is elementwise, so the pieces give the same bits).
    """
    ranges = list(_block_ranges(spec, block_frames))
    renderer = Renderer(spec)
    if raw_peak is None and len(ranges) == 1:
        block = renderer.raw(0, spec.frames)
        yield block, _abs_max(block)
        return
    raw_peak = peak(spec, block_frames) if raw_peak is None else raw_peak
    for start, n in ranges:
        yield renderer.raw(start, n), raw_peak


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
    for block, block_peak in raw_blocks(spec, block_frames, raw_peak):
        yield scale(spec, block, block_peak)


def raw_between(spec: ToneSpec, start: int, stop: int) -> np.ndarray:
    """Raw frames ``start ... stop`` (any start: the encoder's fade edges)."""
    return Renderer(spec).raw(start, stop - start)


def render(spec: ToneSpec) -> FloatFrames:
    """The whole tone in memory, shape ``(frames, channels)``; use :func:`blocks` for long tones."""
    return np.ascontiguousarray(next(blocks(spec, whole_tone_block(spec))))


def whole_tone_block(spec: ToneSpec) -> int:
    """The block size that holds the whole tone in one block (one pass, no peak pre-pass)."""
    return max(TILE, -(-spec.frames // TILE) * TILE)
