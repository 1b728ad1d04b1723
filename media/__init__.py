"""Media: pictures and videos from upload to the processed files clients show.

- `media.sniff`: what a file really is, from its first bytes.
- `media.images`, `media.video`: the processing (orientation, metadata removed, variants, blurhash …), plain
  synchronous functions run in a worker thread.
- `media.storage`: where files live (local files for the embedded default, S3-compatible in production) and
  the upload tickets clients send files with.
"""
