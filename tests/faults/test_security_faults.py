"""The key stays secret and the channels stay closed: key sources (environment, file,
keyring), a config file others can read, plain ws:// to a remote host, a region that does
not resolve, and doctor's output — every artefact grepped for the key (``faults``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from harness.daemon import run_voicetype
from harness.fake_speech import Behaviour
from harness.faults import FaultLab
from harness.textwin import TextWindow

pytestmark = pytest.mark.desktop

KEYRING_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}


def test_world_readable_key_file_is_reported_with_the_fix(
    faults: FaultLab, text_window: TextWindow
) -> None:
    key = faults.service.key
    config = f'[feedback]\nstart_sound = false\n[azure]\nkey = "{key}"\n'
    daemon = faults.start(
        config=config,
        service=False,
        env={"AZURE_AI_SPEECH_HOST": faults.service.url},
        wait_ready=False,
    )
    daemon.proc.stop()
    daemon.stopped = True
    daemon.config_path.chmod(0o644)
    daemon = faults.start(
        config=config, service=False, env={"AZURE_AI_SPEECH_HOST": faults.service.url}
    )
    (note,) = faults.notifications.wait_for(1, 20)
    path = daemon.config_path
    assert note.summary == (
        f"{path} holds your Azure key and other users can read it (permissions 0644)"
    )
    assert f"chmod 600 {path}" in note.body and "voicetype config set-key" in note.body
    faults.prove_dictation(daemon, text_window, 1)

    doctor = faults.artefact("doctor", daemon.cli("doctor", timeout=60).stdout)
    assert "✗ key file permissions" in doctor and f"chmod 600 {path}" in doctor, doctor
    assert "(from file)" in doctor
    path.chmod(0o600)
    doctor = faults.artefact("doctor after chmod", daemon.cli("doctor", timeout=60).stdout)
    assert f"✓ key file permissions: {path} is readable only by you" in doctor, doctor
    assert "✓ speech service" in doctor, doctor


def test_key_from_the_keyring_set_without_echo(
    faults: FaultLab, text_window: TextWindow, user_env: dict[str, str]
) -> None:
    key = faults.service.key
    env = {**user_env, **KEYRING_BACKEND}
    stored = run_voicetype(env, "config", "set-key", stdin=f"{key}\n")
    faults.artefact("set-key output", stored.stdout + stored.stderr)
    assert stored.returncode == 0, stored.stderr
    assert "Stored the key in the keyring" in stored.stdout
    bad = run_voicetype(env, "config", "set-key", stdin="two words\n")
    faults.artefact("set-key refusal", bad.stdout + bad.stderr)
    assert bad.returncode == 2 and "not an Azure Speech key" in bad.stderr

    check = run_voicetype(
        {**env, "AZURE_AI_SPEECH_HOST": faults.service.url}, "config", "check"
    ).stdout
    faults.artefact("config check", check)
    assert f"********{key[-4:]} (from keyring)" in check, check

    daemon = faults.start(
        service=False, env={**KEYRING_BACKEND, "AZURE_AI_SPEECH_HOST": faults.service.url}
    )
    faults.prove_dictation(daemon, text_window, 1)
    (connection,) = faults.service.connections
    assert connection.header("Ocp-Apim-Subscription-Key") == key
    # the environment wins over the keyring
    other = run_voicetype(
        {**env, "AZURE_AI_SPEECH_KEY": "from-env-key-0000", "AZURE_AI_SPEECH_REGION": "westus"},
        "config",
        "check",
    ).stdout
    assert "********0000 (from environment)" in other, other


def test_plain_ws_to_a_remote_host_is_refused_with_a_clear_message(
    faults: FaultLab, user_env: dict[str, str]
) -> None:
    env = {**user_env, "AZURE_AI_SPEECH_KEY": faults.service.key}
    refused = run_voicetype({**env, "AZURE_AI_SPEECH_HOST": "ws://speech.example.com:5000"}, "run")
    faults.artefact("run with ws://", refused.stdout + refused.stderr)
    assert refused.returncode == 2
    assert "would send your key and audio unencrypted over the network" in refused.stderr
    assert 'use "wss://speech.example.com:5000"' in refused.stderr
    assert "allow_insecure_host = true" in refused.stderr
    config = Path(env["XDG_CONFIG_HOME"]) / "voicetype" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[azure]\nhost = "ws://10.1.2.3:5000"\nallow_insecure_host = true\n')
    allowed = run_voicetype(env, "config", "check")
    assert allowed.returncode == 0, allowed.stderr
    assert "host:        ws://10.1.2.3:5000" in allowed.stdout
    for host in ("ws://localhost:5000", "ws://127.0.0.1:5000", "ws://[::1]:5000"):
        config.write_text(f'[azure]\nhost = "{host}"\n')
        assert run_voicetype(env, "config", "check").returncode == 0, host


def test_region_that_does_not_resolve_then_fixed_by_reload(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """DNS failure for a region: "nosuchregion" has no name in DNS (or no DNS at all)."""
    key = faults.service.key
    daemon = faults.start(
        config='[feedback]\nstart_sound = false\n[azure]\nregion = "nosuchregionxq"\n',
        service=False,
        env={"AZURE_AI_SPEECH_KEY": key},
    )
    text_window.focus()
    at = faults.press()
    call, told = faults.one_notification(daemon, 1, "failed (", timeout=30)
    ready = time.monotonic()
    assert call.summary in ("Could not reach the speech service",), call
    assert told - at < 20
    assert text_window.content() == ""
    # the user fixes the configuration; SIGHUP applies it without a restart
    daemon.config_path.write_text(
        f'[feedback]\nstart_sound = false\n[azure]\nhost = "{faults.service.url}"\n'
    )
    faults.notifications.clear()
    os.kill(daemon.proc.pid, 1)
    (reloaded,) = faults.notifications.wait_for(1, 10)
    assert reloaded.summary.startswith("Configuration reloaded")
    faults.prove_dictation(daemon, text_window, 2)
    faults.record(
        "service: region not in DNS (fixed by reload)",
        told_s=told - at,
        ready_s=ready - at,
        recovered=True,
        notifications=2,
    )


def test_the_key_never_reaches_an_exception_message_in_the_log(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """The service's error text echoing the key (a hostile or buggy proxy) is scrubbed."""
    key = faults.service.key
    daemon = faults.start()
    faults.service.always(Behaviour.http(400, f"bad request for key {key}"))
    text_window.focus()
    faults.press()
    call, _ = faults.one_notification(daemon, 1, "failed (")
    assert key not in call.body
    daemon.wait_for_log("recognition failed")
