"""How the WebRTC browser tests start Chromium: the flags of
shared/ANCHORS.md (Browser), with fake camera and microphone, ICE on
loopback and sound that plays without a user gesture."""

from __future__ import annotations

from typing import Final

CHROMIUM_MEDIA_ARGS: Final = (
    "--headless=new",
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
