"""Coloured noise, seeded by the spec, streamed in blocks with the same bits for any block size.

White noise is Gaussian, made by Box–Muller from the raw output of numpy's PCG64
(seeded from the spec), in chunks of :data:`WHITE_CHUNK` frames. Every chunk takes a
fixed number of raw draws for all channels at once, so chunk ``k`` starts at draw
``k × that`` — PCG64 jumps there in O(log k) — and any frame range can be made without
making what precedes it. Channels get disjoint draws: independent noise.

Pink (power ∝ 1/f, -3.01 dB/octave) and brown (∝ 1/f², -6.02 dB/octave) noise are
shaped in the frequency domain: each segment of ``N`` frames is the inverse FFT of
independent complex Gaussian bins scaled to the wanted spectrum, and segments overlap
by ``N/8`` frames with power-complementary sine/cosine tapers, so the variance is
the same at every frame and the spectrum is exact to within a fraction of a bin
(``N`` = 2^14 at 44.1 and 48 kHz: 2.7 Hz bins; more at higher rates — the size that
keeps the FFT in cache, which made it 1.4× faster than 2^16). No IIR approximation,
no ripple; below :data:`CORNER_HZ` the spectrum is flat, so the noise is stationary
and has no DC.

``amplitude`` sets the RMS to ``amplitude/√2``: the power of a sine of that amplitude.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from wavekit.audio.spec import NoiseColor

WHITE_CHUNK = 1 << 16
"""Frames per white-noise generator."""
CORNER_HZ = 10.0
"""Below this the pink and brown spectra are flat (stationary noise, no DC)."""
_STREAM = 0x6E6F697365  # "noise": keeps noise generators apart from the dither's
_CACHED_GROUPS = 2
_FFT_ROWS = 8
"""Transforms per FFT call: numpy runs them side by side in SIMD lanes."""


def _generator(seed: int) -> np.random.PCG64:
    return np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_STREAM,)))


# numpy < 2 has no ``out=`` for its FFTs (and returns float64 from complex64 input)
_FFT_HAS_OUT = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _gaussian_pairs(bits: np.random.PCG64, uniforms: np.ndarray) -> None:
    """Box–Muller in place: ``uniforms[0]`` becomes the radius ``sqrt(-2 ln u)``,
    ``uniforms[1]`` the angle ``2π·v`` (float32, shape ``(2, rows, pairs)``).

    Each value is ``k/2^24`` from the top 24 bits of one 32-bit half of a raw draw
    (numpy's float32 ``random``: low half first, as a little-endian view of the raw
    draws). ``u = (k+1)/2^24`` never reaches 0, so the radius never overflows (at most
    5.77: the tails past 5.77σ, probability 8e-9, are cut). Every step is exact or one
    float32 rounding, as it was when the raw bits were converted by hand.
    """
    raw = bits.random_raw(uniforms.size // 2).view(np.uint32)
    np.right_shift(raw, 8, out=raw)
    np.copyto(uniforms.reshape(-1), raw, casting="unsafe")
    radius, angle = uniforms[0], uniforms[1]
    radius += np.float32(1.0)
    radius *= np.float32(2.0**-24)
    np.log(radius, out=radius)
    radius *= np.float32(-2.0)
    np.sqrt(radius, out=radius)
    angle *= np.float32(2.0 * math.pi * 2.0**-24)


class NoiseSource:
    """Noise of one colour for every channel of a tone, frame range by frame range.

    Segments are made in groups (every channel of :attr:`group` consecutive segments):
    numpy's FFT runs several transforms side by side in SIMD lanes, 2.5× faster per
    sample for 8 than for 1. Segment slot ``j = k + 1`` (segment ``k`` starts at frame
    ``k·hop``, ``k ≥ -1``) of channel ``c`` takes the ``pairs`` raw draws starting at
    draw ``(j·channels + c) × pairs`` of the spec's generator.
    """

    def __init__(
        self, color: NoiseColor, amplitude: float, seed: int, sample_rate: int, channels: int
    ) -> None:
        self.color, self.seed, self.channels = color, seed, channels
        self.sigma = amplitude / math.sqrt(2.0)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bits: tuple[np.random.PCG64, int] | None = None  # (bits, draws taken)
        self._uniforms: np.ndarray | None = None  # reused buffers, made at first use
        self._gaussians: np.ndarray | None = None
        if color == "white":
            self.length, self.hop = WHITE_CHUNK, WHITE_CHUNK
            self.pairs, self.group = WHITE_CHUNK // 2, 1
            return
        self.length = 1 << max(14, math.ceil(math.log2(sample_rate / 3)))  # bins ≤ 3 Hz
        self.taper = self.length // 8
        self.hop = self.length - self.taper
        self.pairs = self.length // 2 + 1
        self.group = max(1, _FFT_ROWS // channels)
        freqs = np.fft.rfftfreq(self.length, 1.0 / sample_rate)
        power = np.maximum(freqs, CORNER_HZ) ** (-1.0 if color == "pink" else -2.0)
        power[0] = power[-1] = 0.0  # no DC, nothing at Nyquist
        # var(irfft) = 4/N²·Σ g², so this gain gives variance sigma²
        gain = np.sqrt(power) * (self.sigma * self.length / (2.0 * math.sqrt(power.sum())))
        # value k of the Gaussians read as complex64 lands in bin k // 2
        per_value = np.repeat(gain.astype(np.float32), 2)
        self._gain_cos, self._gain_sin = per_value[: self.pairs], per_value[self.pairs :]
        edge = (np.arange(self.taper) + 0.5) * (0.5 * math.pi / self.taper)
        self._rise = np.sin(edge).astype(np.float32)
        self._fall = np.cos(edge).astype(np.float32)

    def _draws(self, group: int) -> np.random.PCG64:
        """The bit generator, positioned at the first draw of ``group``."""
        per_group = self.group * self.channels * self.pairs
        target = group * per_group
        if self._bits is None or self._bits[1] > target:
            self._bits = (_generator(self.seed), 0)
        bits, position = self._bits
        if target > position:
            bits.advance(target - position)
        self._bits = (bits, target + per_group)
        return bits

    def _segments(self, group: int) -> np.ndarray:
        """Windowed segments of one group: float32, ``(group, channels, length)``.

        Every array is reused from group to group: fresh half-megabyte arrays cost
        page faults that made the inverse FFT 2.5× slower than the transform itself.
        """
        if group in self._cache:
            self._cache.move_to_end(group)
            return self._cache[group]
        rows = self.group * self.channels
        if self._uniforms is None:
            self._uniforms = np.empty((2, rows, self.pairs), dtype=np.float32)
        uniforms = self._uniforms
        _gaussian_pairs(self._draws(group), uniforms)
        radius, angle = uniforms[0], uniforms[1]
        if len(self._cache) >= _CACHED_GROUPS:
            flat = self._cache.popitem(last=False)[1].reshape(rows, self.length)
        else:
            flat = np.empty((rows, self.length), dtype=np.float32)
        if self.color == "white":
            radius *= np.float32(self.sigma)
            half = self.length // 2
            np.cos(angle, out=flat[:, :half])
            np.sin(angle, out=flat[:, half:])
            flat[:, :half] *= radius
            flat[:, half:] *= radius
        else:
            # 2·pairs iid Gaussians, cosines first then sines (contiguous writes), read as
            # (re, im) pairs of complex64: any layout of iid Gaussians is iid complex
            if self._gaussians is None:
                self._gaussians = np.empty((rows, 2 * self.pairs), dtype=np.float32)
            gaussians = self._gaussians
            for half, (trig, gain) in enumerate(
                ((np.cos, self._gain_cos), (np.sin, self._gain_sin))
            ):
                part = gaussians[:, half * self.pairs : (half + 1) * self.pairs]
                trig(angle, out=part)
                part *= radius
                part *= gain
            spectrum = gaussians.view(np.complex64)
            if _FFT_HAS_OUT:
                np.fft.irfft(spectrum, n=self.length, axis=1, out=flat)
            else:  # pragma: no cover - numpy 1.26 computes in float64
                flat[...] = np.fft.irfft(spectrum, n=self.length, axis=1)
            flat[:, : self.taper] *= self._rise
            flat[:, self.length - self.taper :] *= self._fall
        segments = flat.reshape(self.group, self.channels, self.length)
        self._cache[group] = segments
        return segments

    def add_to(self, out: np.ndarray, start: int, *, fresh: bool = False) -> None:
        """Add the noise of frames ``start ... start+n`` to ``out``, shape ``(channels, n)``.

        ``fresh``: ``out`` holds nothing yet (any values), so it is written rather than
        added to; only the overlaps of consecutive segments are sums. That spares the
        caller zeroing a block that noise alone fills, and a pass over it.
        """
        stop = start + out.shape[1]
        first = (start - self.length) // self.hop + 1
        last = (stop - 1) // self.hop
        filled = start  # with fresh: frames before this are written
        for index in range(max(first, -1), last + 1):
            begin = index * self.hop
            lo, hi = max(begin, start), min(begin + self.length, stop)
            if lo >= hi:
                continue
            group, row = divmod(index + 1, self.group)
            segment = self._segments(group)[row]
            split = max(lo, min(filled, hi)) if fresh else hi
            out[:, lo - start : split - start] += segment[:, lo - begin : split - begin]
            out[:, split - start : hi - start] = segment[:, split - begin : hi - begin]
            filled = max(filled, hi)
