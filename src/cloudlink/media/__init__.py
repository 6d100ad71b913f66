"""The Python face of the media engine: pipelines, sources and sinks.

One concept per module; import what you use (the package itself imports
nothing, so ``import cloudlink`` stays light):

- ``frame``: :class:`AudioFrame`, 10 ms of int16 audio.
- ``source``, ``file_source``, ``synthetic``: sources of 10 ms frames (WAV,
  any file PyAV reads, tone, noise, silence, the packaged speech).
- ``background_noise``: babble of the packaged talkers and office noise, as
  samples to add to speech.
- ``sink``: memory, callback, WAV and PyAV container sinks.
- ``rtp_payload``, ``send_pipeline``, ``receive_pipeline``: frames to RTP
  payloads (Opus, FEC, RED, echo cancelling) and back (jitter buffer).
- ``playout_clock``: the asyncio 10 ms tick that drives playout.
- ``mixer``: several received streams into one, with per-stream levels.
- ``network_sim``, ``simulated_link``: a stream over a simulated network in
  virtual time; ``quality``: the ITU-T G.107 E-model.
- ``wav``: 16-bit PCM WAV files.

Video:

- ``video_frame``: :class:`VideoFrame`, one I420 picture and its time.
- ``video_source``, ``av_video_source``: the stamped test pattern, files,
  the X11 screen (x11grab) and V4L2 cameras through PyAV.
- ``video_sink``: memory, callback and PyAV file sinks (WebM/VP8, MP4).
- ``video_send_pipeline``, ``video_receive_pipeline``: frames to VP8 RTP
  payloads (keyframes on PLI, NACK history) and back (frame assembler, NACK
  lists, PLI requests, W3C statistics).
- ``video_link``: a video stream over simulated forward and feedback paths
  in virtual time.
"""
