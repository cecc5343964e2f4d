"""Safe-harbor messages: an uploaded WAV converted to what Asterisk plays without
transcoding surprises (8 kHz, mono, 16-bit signed PCM `.wav`, its "slin" format), written
under ASTERISK_SOUNDS_DIR/autodialer/ as `campaign-<id>.wav`.

Pure Python (`wave` + `array`): no sox or ffmpeg to install. Only PCM WAV is accepted; an MP3
or a compressed WAV gets a clear message.
"""

from __future__ import annotations

import array
import io
import os
import sys
import wave
from pathlib import Path

from django.conf import settings

from telephony.models import Campaign
from telephony.services.campaign_errors import CampaignServiceError

TARGET_RATE = 8000
MAX_SECONDS = 60
SOUND_FOLDER = "autodialer"


def _samples(raw: bytes, width: int) -> array.array:
    """Signed 16-bit samples from PCM frames of 1-4 bytes per sample."""
    if width == 2:
        out = array.array("h")
        out.frombytes(raw)
        if sys.byteorder == "big":
            out.byteswap()
        return out
    if width == 1:  # 8-bit WAV is unsigned
        return array.array("h", ((byte - 128) << 8 for byte in raw))
    step = width
    return array.array("h", (int.from_bytes(raw[index:index + step], "little", signed=True)
                             >> (8 * (step - 2)) for index in range(0, len(raw), step)))


def wav_convert(data: bytes) -> bytes:
    """`data` (a PCM WAV) as 8 kHz mono 16-bit WAV bytes. Raises CampaignServiceError."""
    try:
        with wave.open(io.BytesIO(data)) as source:
            channels, width, rate = (source.getnchannels(), source.getsampwidth(),
                                     source.getframerate())
            frames = source.getnframes()
            if not rate or frames / rate > MAX_SECONDS:
                raise CampaignServiceError(f"The message may be at most {MAX_SECONDS} seconds.")
            raw = source.readframes(frames)
    except (wave.Error, EOFError):
        raise CampaignServiceError("The safe-harbor message must be a PCM WAV file "
                                   "(not MP3 or a compressed WAV).") from None
    if width not in (1, 2, 3, 4) or channels < 1:
        raise CampaignServiceError("Unsupported WAV sample format.")
    samples = _samples(raw, width)
    if channels > 1:  # average the channels
        samples = array.array("h", (sum(samples[index:index + channels]) // channels
                                    for index in range(0, len(samples), channels)))
    if rate != TARGET_RATE and len(samples) > 1:
        # Linear interpolation: enough for a spoken message on an 8 kHz phone line.
        count = max(1, len(samples) * TARGET_RATE // rate)
        ratio = (len(samples) - 1) / max(1, count - 1)
        resampled = array.array("h", bytes(2 * count))
        for index in range(count):
            position = index * ratio
            base = int(position)
            following = samples[min(base + 1, len(samples) - 1)]
            resampled[index] = int(samples[base] + (following - samples[base])
                                   * (position - base))
        samples = resampled
    if sys.byteorder == "big":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(TARGET_RATE)
        target.writeframes(samples.tobytes())
    return out.getvalue()


def safe_harbor_store(*, campaign: Campaign, upload) -> str:
    """Convert and write the campaign's message; returns the sound name Playback() takes."""
    converted = wav_convert(upload.read())
    folder = Path(settings.ASTERISK_SOUNDS_DIR) / SOUND_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"campaign-{campaign.pk}"
    temporary = folder / f".{name}.wav.tmp"
    temporary.write_bytes(converted)
    os.replace(temporary, folder / f"{name}.wav")  # Asterisk never reads half a file
    campaign.safe_harbor_sound = f"{SOUND_FOLDER}/{name}"
    campaign.safe_harbor_original_name = getattr(upload, "name", "")[:200]
    campaign.save(update_fields=["safe_harbor_sound", "safe_harbor_original_name",
                                 "updated_at"])
    return campaign.safe_harbor_sound
