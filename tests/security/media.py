"""Small media files made on the spot: a PNG that lies about its size, real and fake video and audio."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

from PIL import Image


def png_declaring(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of blank pixels: a few hundred KiB on disk, width × height × 4 bytes decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def mp4_video(frames: int = 3, size: int = 32) -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_image(Image.new("RGB", (size, size), (i * 60, 0, 0)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def wav_tone(seconds: float = 0.2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        n = int(8000 * seconds)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 4))) for i in range(n)))
    return buf.getvalue()


# Right magic bytes, nothing behind them: what a signature check alone accepted.
FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x01\x02" * 5000
FAKE_WAV = b"RIFF" + b"\x00" * 4000
