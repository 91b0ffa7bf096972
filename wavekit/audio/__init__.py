"""The synthesis core: tone specs, exact synthesis, WAV encoding and FFT measurement.

Pure numpy in, numpy (or bytes) out; no cloud SDK, no web framework. Everything above
(the service, the studio, the analytics) builds on these modules:

- :mod:`.spec`      the tone spec (pydantic), notes and volumes, limits naming the field;
- :mod:`.synth`     spec -> float frames, exact phase, streamed in blocks;
- :mod:`.waveforms` band-limited square/triangle/sawtooth (exact harmonics below Nyquist);
- :mod:`.sweeps`    exponential and linear sine sweeps with exact phase;
- :mod:`.noise`     white, pink and brown noise, seeded by the spec;
- :mod:`.impulse`   a sweep's inverse filter, and impulse responses from recordings;
- :mod:`.wavfile`   frames -> WAV/FLAC bytes or files through soundfile;
- :mod:`.measure`   what a signal contains (windowed FFT peaks), for plots and ``wavekit info``.
"""
