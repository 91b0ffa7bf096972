"""Encode tones as WAV (or FLAC) with libsndfile, through python-soundfile.

We quantise to integers ourselves (round to nearest, optional TPDF dither) and hand
libsndfile integers it stores unchanged, so the bytes are ours to reason about and
identical on every machine. Every file carries its generation spec as JSON in the
``comment`` string (a LIST/INFO ``ICMT`` chunk in WAV, a Vorbis comment in FLAC),
which :func:`read_spec` and ``wavekit info`` read back.

Files whose audio data would pass 4 GiB are written as RF64 automatically.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import soundfile as sf

from wavekit.audio import synth
from wavekit.audio.spec import BitDepth, ToneSpec
from wavekit.errors import AudioFormatError

Container = Literal["wav", "flac"]
SPEC_COMMENT_PREFIX = "wavekit-spec:"
PACKED_SPEC_PREFIX = "wavekit-spec-z85:"
MAX_COMMENT_CHARS = 2046
"""libsndfile silently drops a WAV INFO string longer than this."""
WAV_DATA_LIMIT = 0xFFFF_FFFF - 1024
"""Bytes of audio a plain RIFF/WAV can hold (32-bit sizes, minus room for headers)."""

WRITE_BUFFER_BYTES = 1 << 20
QUANTIZE_FRAMES = 1 << 15
"""Frames normalised and quantised at a time: the float and integer pieces stay in cache."""
REPEAT_BYTES = 256 << 10
"""Bytes handed to libsndfile at a time when a quantised period is repeated: small
enough to be written from cache (4 MiB was 1.5× slower)."""
ONE_PASS_SAMPLES = 1 << 23
"""Up to this many samples (~95 s of 44.1 kHz stereo, ~60 MB of buffers) a file is
rendered in one block, skipping the peak pass that long streamed tones need."""

_SUBTYPES: dict[BitDepth, str] = {
    8: "PCM_U8",
    16: "PCM_16",
    24: "PCM_24",
    32: "PCM_32",
    "float32": "FLOAT",
}
_SAMPLE_DTYPES: dict[BitDepth, type[np.generic]] = {
    8: np.int16,
    16: np.int16,
    24: np.int32,
    32: np.int32,
    "float32": np.float32,
}
_FLAC_SUBTYPES: dict[BitDepth, str] = {8: "PCM_S8", 16: "PCM_16", 24: "PCM_24"}


def bytes_per_sample(bits: BitDepth) -> int:
    return 4 if bits == "float32" else bits // 8


def data_bytes(spec: ToneSpec) -> int:
    """Size of the audio data alone."""
    return spec.frames * spec.number_of_channels * bytes_per_sample(spec.bits_per_sample)


def sound_format(spec: ToneSpec, container: Container = "wav") -> tuple[str, str]:
    """libsndfile ``(format, subtype)`` for a spec: RF64 past the 4 GiB limit of RIFF."""
    if container == "flac":
        subtype = _FLAC_SUBTYPES.get(spec.bits_per_sample)
        if subtype is None:
            raise AudioFormatError(
                f"bits_per_sample: FLAC stores 8, 16 or 24-bit integers, not {spec.bits_per_sample}"
            )
        return "FLAC", subtype
    if container != "wav":
        raise AudioFormatError(f"container: must be 'wav' or 'flac', not {container!r}")
    fmt = "RF64" if data_bytes(spec) > WAV_DATA_LIMIT else "WAV"
    return fmt, _SUBTYPES[spec.bits_per_sample]


class Quantizer:
    """Float frames → the integer (or float32) samples soundfile stores verbatim.

    Integer depths round to nearest after optional TPDF dither (two uniform draws per
    frame and signal, from a generator seeded by the spec, consumed frame by frame so
    the result does not depend on block size). Dithered values are clipped to full
    scale, so dither at volume 1.0 can never wrap around; without dither the normalised
    peak is at most ``volume`` plus a few ulps, which rounds to full scale at most.
    """

    def __init__(self, spec: ToneSpec) -> None:
        self.spec = spec
        self.bits = spec.bits_per_sample
        self.dither = spec.dither and self.bits in (8, 16)
        self.sample_dtype = np.dtype(_SAMPLE_DTYPES[self.bits])
        # seeding costs ~3 % of writing a minute of noise: only when dither needs it
        self._rng = np.random.Generator(np.random.PCG64(spec.seed)) if self.dither else None

    def __call__(self, block: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Quantise normalised frames ``(n, channels)`` into ``out`` (new if ``None``)."""
        channels = block.shape[1]
        shared = channels > 1 and block.strides[1] == 0
        return self._quantize_pieces(block[:, :1] if shared else block, channels, out)

    def _quantize_pieces(
        self, signal: np.ndarray, channels: int, out: np.ndarray | None, scratch: bool = False
    ) -> np.ndarray:
        """Quantise ``signal`` (frames, 1 or ``channels``) into ``out`` (frames, channels).

        ``scratch``: ``signal`` is ours to overwrite, so it is quantised in place.
        """
        frames = signal.shape[0]
        if out is None:
            out = np.empty((frames, channels), dtype=self.sample_dtype)
        for lo in range(0, frames, QUANTIZE_FRAMES):  # pieces that stay in cache
            hi = min(lo + QUANTIZE_FRAMES, frames)
            self._quantize(signal[lo:hi], out[lo:hi], scratch)
        return out

    def scaled(self, raw: np.ndarray, raw_peak: float) -> Iterator[np.ndarray]:
        """Normalise (as :func:`~wavekit.audio.synth.scale`) and quantise a raw block, piece
        by piece: each piece is still in cache for the next step, and the small arrays
        handed to the writer come from recycled memory (fresh pages of one big output
        array cost more than quantising them). Normalising writes each raw column into
        the interleaved piece (one pass instead of a copy and a multiply), and the piece
        is then quantised in place."""
        frames, width = raw.shape
        piece = np.empty((min(frames, QUANTIZE_FRAMES), width), dtype=raw.dtype)
        output = synth.output_dtype(self.spec)
        for lo in range(0, frames, QUANTIZE_FRAMES):
            hi = min(lo + QUANTIZE_FRAMES, frames)
            rows = piece[: hi - lo]
            synth.scale_into(self.spec, raw[lo:hi], rows, raw_peak)
            normalised = rows.astype(output, copy=False)
            channels = self.spec.number_of_channels
            yield self._quantize_pieces(normalised, channels, None, normalised is rows)

    def _quantize(self, x: np.ndarray, out: np.ndarray, scratch: bool = False) -> None:
        """Quantise ``x`` (frames, 1 or channels) into ``out`` (frames, channels); with
        ``scratch``, ``x`` (C-ordered) is overwritten instead of copied."""
        if self.bits == "float32":
            _copy_columns(out, x)  # already float32 (scale casts)
            return
        bits = self.bits
        full_scale = float(2 ** (bits - 1) - 1)
        if scratch and x.flags.c_contiguous:
            y = np.multiply(x, x.dtype.type(full_scale), out=x)
        else:
            y = np.multiply(x, x.dtype.type(full_scale), order="C")
        if self._rng is not None:
            u = self._rng.random((*x.shape, 2), dtype=np.float32)
            y += u[..., 0] - u[..., 1]
        np.rint(y, out=y)
        if self._rng is not None:  # without dither |y| ≤ full_scale·(1 + 4 ulp): in range
            np.clip(y, -full_scale - 1, full_scale, out=y)
        _copy_columns(out, y)  # exact: y holds integers in range
        if bits in (8, 24):  # libsndfile maps int16 >> 8 onto unsigned 8-bit, and keeps
            np.left_shift(out, 8, out=out)  # the top 24 bits of an int32


def _copy_columns(out: np.ndarray, x: np.ndarray) -> None:
    """``out[...] = x`` (casting), one column at a time when the layouts differ.

    numpy copies a frame-major (n, 2) array element pair by element pair when the source
    is column-major or broadcast: 5× slower than one strided loop per column.
    """
    if x.shape == out.shape and x.flags.c_contiguous:
        np.copyto(out, x, casting="unsafe")
        return
    for column in range(out.shape[1]):
        np.copyto(out[:, column], x[:, column if x.shape[1] > 1 else 0], casting="unsafe")


def encoded_blocks(
    spec: ToneSpec,
    block_frames: int = synth.DEFAULT_BLOCK_FRAMES,
    progress: bool = False,
) -> Iterator[np.ndarray]:
    """The samples to store, block by block (what both :func:`to_bytes` and :func:`write` write).

    A tone that repeats a short period (any integer-Hz chord without noise or sweep) is
    quantised one period at a time: the samples between the fades are that period's
    integers repeated, which is exactly what quantising every frame would give.
    """
    quantize = Quantizer(spec)
    repeating = synth.periodic(spec)
    fade_in, fade_out = synth.fade_frames(spec)
    parts: Iterator[np.ndarray]
    if (
        repeating is not None
        and not quantize.dither
        and spec.frames - fade_in - fade_out >= repeating.period
    ):
        parts = _periodic_parts(spec, repeating, quantize, block_frames)
    else:
        raw_peak = synth.peak(spec, block_frames) if spec.frames > block_frames else None
        parts = (
            samples
            for raw, peak in synth.raw_blocks(spec, block_frames, raw_peak)
            for samples in quantize.scaled(raw, peak)
        )
    if not progress:  # even a disabled tqdm costs a quarter of a millisecond to close
        yield from parts
        return
    # imported here: tqdm.auto warns at import in a kernel without ipywidgets (the report's)
    from tqdm.auto import tqdm

    with tqdm(
        total=spec.frames, unit="frame", unit_scale=True, desc="synthesising", leave=False
    ) as bar:
        for samples in parts:
            yield samples
            bar.update(samples.shape[0])


def _periodic_parts(
    spec: ToneSpec, repeating: synth.Periodic, quantize: Quantizer, block_frames: int
) -> Iterator[np.ndarray]:
    """Fade-in frames, then the quantised period repeated, then fade-out frames."""
    raw_peak = repeating.raw_peak
    fade_in, fade_out = synth.fade_frames(spec)
    period = repeating.period
    one_period = quantize(synth.scale(spec, repeating.table.T.copy(), raw_peak))
    for start in range(0, fade_in, block_frames):
        stop = min(start + block_frames, fade_in)
        yield from quantize.scaled(synth.raw_between(spec, start, stop), raw_peak)
    copies = max(1, REPEAT_BYTES // one_period.nbytes)
    repeated = np.tile(one_period, (copies + 1, 1))
    position, end = fade_in, spec.frames - fade_out
    while position < end:
        phase = position % period
        count = min(copies * period, end - position)
        yield repeated[phase : phase + count]
        position += count
    for start in range(end, spec.frames, block_frames):
        stop = min(start + block_frames, spec.frames)
        yield from quantize.scaled(synth.raw_between(spec, start, stop), raw_peak)


def _write_to(
    target: BinaryIO,
    spec: ToneSpec,
    container: Container,
    block_frames: int,
    progress: bool,
) -> None:
    fmt, subtype = sound_format(spec, container)
    with sf.SoundFile(
        target,
        mode="w",
        samplerate=spec.sample_rate,
        channels=spec.number_of_channels,
        format=fmt,
        subtype=subtype,
    ) as out:
        if subtype == "FLOAT":
            _without_peak_chunk(out)
        out.comment = spec_comment(spec)
        out.software = "wavekit"
        verbatim = fmt != "FLAC" and subtype in _VERBATIM and sys.byteorder == "little"
        for samples in encoded_blocks(spec, block_frames, progress):
            _write_samples(out, samples, verbatim)


_VERBATIM = frozenset({"PCM_16", "PCM_32", "FLOAT"})
"""Subtypes whose bytes in a (little-endian) WAV or RF64 file are our samples' bytes."""
_CTYPES = {np.dtype(np.int16): "short", np.dtype(np.int32): "int", np.dtype(np.float32): "float"}


def _write_samples(out: sf.SoundFile, samples: np.ndarray, verbatim: bool) -> None:
    """Hand samples ``(frames, channels)`` to libsndfile, through its C calls.

    ``SoundFile.write`` asks libsndfile for the position before and after every call
    and seeks to the end and back (to keep its ``frames`` attribute), and each seek
    flushes our Python file buffer. Verbatim subtypes go further: ``sf_write_raw``
    stores the bytes as they are in one write, where ``sf_writef_short`` would copy
    them through an 8 KiB buffer and call back into Python for every 8 KiB. Either
    way libsndfile counts the frames for the header; the bytes are the same.
    """
    samples = np.ascontiguousarray(samples)
    ffi, snd = sf._ffi, sf._snd
    if verbatim:
        done = snd.sf_write_raw(out._file, ffi.from_buffer(samples), samples.nbytes)
        expected = samples.nbytes
    else:
        ctype = _CTYPES[samples.dtype]
        data = ffi.cast(f"{ctype} *", samples.ctypes.data)
        done = getattr(snd, f"sf_writef_{ctype}")(out._file, data, samples.shape[0])
        expected = samples.shape[0]
    if done != expected:  # the file's write failed (its exception is printed by cffi)
        raise OSError(f"writing audio: {done} of {expected} stored (is the disk full?)")


_SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's sndfile.h


def _without_peak_chunk(out: sf.SoundFile) -> None:
    """Ask libsndfile not to write its PEAK chunk for float files.

    That chunk holds a timestamp, so two renders of one spec a second apart differed;
    python-soundfile has no public call for this command, hence its ``_snd`` handle.
    """
    snd, ffi = sf._snd, sf._ffi
    snd.sf_command(out._file, _SFC_SET_ADD_PEAK_CHUNK, ffi.NULL, 0)


def spec_comment(spec: ToneSpec) -> str:
    """The spec as it is stored in the file: plain JSON, or zlib + base85 when too long.

    Plain JSON keeps it readable by any tool (``sox --i`` shows it); the packed form
    keeps even 32 full-precision partials (≈3.4 kB of JSON) inside libsndfile's limit.
    """
    text = spec.canonical_json()
    comment = SPEC_COMMENT_PREFIX + text
    if len(comment) > MAX_COMMENT_CHARS:
        packed = base64.b85encode(zlib.compress(text.encode(), 9)).decode()
        comment = PACKED_SPEC_PREFIX + packed
    if len(comment) > MAX_COMMENT_CHARS:  # pragma: no cover - beyond any valid spec
        raise AudioFormatError(f"spec too large to embed ({len(comment)} characters)")
    return comment


def spec_json_from_comment(comment: str) -> str | None:
    """The spec JSON inside a file's comment, or ``None`` if wavekit did not write it."""
    if comment.startswith(SPEC_COMMENT_PREFIX):
        return comment.removeprefix(SPEC_COMMENT_PREFIX)
    if comment.startswith(PACKED_SPEC_PREFIX):
        packed = comment.removeprefix(PACKED_SPEC_PREFIX)
        return zlib.decompress(base64.b85decode(packed)).decode()
    return None


def to_bytes(spec: ToneSpec, container: Container = "wav") -> bytes:
    """Encode the whole tone in memory (one synthesis pass)."""
    buffer = io.BytesIO()
    _write_to(buffer, spec, container, synth.whole_tone_block(spec), progress=False)
    return buffer.getvalue()


def write(
    spec: ToneSpec,
    path: str | os.PathLike[str],
    container: Container = "wav",
    block_frames: int | None = None,
    progress: bool = False,
) -> Path:
    """Stream the tone to ``path`` block by block, atomically (temp file, then rename).

    Tones up to :data:`ONE_PASS_SAMPLES` samples are made in one block (one synthesis pass);
    longer ones stream in blocks with constant memory and are synthesised twice (once
    to measure the peak). The bytes equal :func:`to_bytes` whatever the block size.
    The file gets the usual mode of a new file (0666 less the umask, typically 0644).
    """
    if block_frames is None:
        one_pass = spec.frames * spec.number_of_channels <= ONE_PASS_SAMPLES
        block_frames = synth.whole_tone_block(spec) if one_pass else synth.DEFAULT_BLOCK_FRAMES
    sound_format(spec, container)  # fail before creating anything
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_file_beside(path)
    try:
        # A large Python buffer: libsndfile's own writes are small (one syscall per
        # 8 KiB when it converts), and by name its close would fsync every file.
        with open(tmp, "wb", buffering=WRITE_BUFFER_BYTES) as target:
            _write_to(target, spec, container, block_frames, progress)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _new_file_beside(path: Path) -> Path:
    """Create an empty, unique temporary file next to ``path``, mode 0666 less the umask.

    ``tempfile.mkstemp`` makes 0600 files, and that mode survived the rename, so a web
    server or a colleague could not read what we wrote; the kernel applies the umask
    to the mode given to ``open``, as it does for any tool's output.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
        try:
            os.close(os.open(candidate, flags, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free temporary name beside {path}")  # pragma: no cover


def read_spec(source: str | os.PathLike[str] | io.BytesIO) -> ToneSpec | None:
    """The generation spec embedded in a file wavekit wrote, or ``None`` for other files."""
    try:
        with sf.SoundFile(source) as f:
            comment = f.comment or ""
    except sf.LibsndfileError as exc:
        raise AudioFormatError(f"cannot read audio: {exc}") from None
    text = spec_json_from_comment(comment)
    return None if text is None else ToneSpec.parse(text)
