"""A training job on Hugging Face Jobs, after ``hf_job_bootstrap`` fetched its files: installs the
pinned training stack (unless P2M_INSTALL_REQUIREMENTS=0, for an image that has it), trains with
the worker (its protocol lines go to the job's log, which prompt2model follows), pushes the trained
model to the private model repo P2M_MODEL_REPO, and only then reports ``done`` (with the repo and
commit), so the caller never downloads a model that is not all there.

Run in the job folder (job.json, data/) with the worker on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .protocol import EventWriter

# Checkpoints stay behind: the model repo holds the trained model, not the training state.
UPLOAD_IGNORE = ["checkpoint-*", "checkpoint-*/**", "*.lock", ".lock"]


def main() -> int:
    events = EventWriter(enabled=True)
    requirements = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements.txt")
    if os.environ.get("P2M_INSTALL_REQUIREMENTS", "1") != "0" and os.path.exists(requirements):
        events.emit("log", level="info", message="Installing the pinned training stack (pip install -r requirements.txt)")
        code = subprocess.call([sys.executable, "-m", "pip", "install", "--no-input", "--progress-bar", "off", "-r", requirements], stdout=sys.stderr)
        if code != 0:
            events.emit("error", message=f"pip could not install the training stack (exit code {code})", code="install-failed", hint="Read the job's log above; pass an image that has the stack and turn the install off.")
            return 3
    worker = subprocess.Popen([sys.executable, "-m", "p2m_worker", "--config", "job.json"], stdout=subprocess.PIPE, text=True, bufsize=1)
    done = None
    assert worker.stdout is not None
    for line in worker.stdout:
        try:
            event = json.loads(line) if line.startswith("{") else None
        except ValueError:
            event = None
        if isinstance(event, dict) and event.get("type") == "done":
            done = event  # held back until the model is on the Hub
            continue
        sys.stdout.write(line)
        sys.stdout.flush()
    code = worker.wait()
    if code != 0 or done is None:
        return code or 1
    repo = os.environ["P2M_MODEL_REPO"]
    events.emit("log", level="info", message=f"Uploading the trained model to {repo} (private)")
    try:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=os.environ.get("HF_ENDPOINT"), token=os.environ["HF_TOKEN"])
        api.create_repo(repo, repo_type="model", private=True, exist_ok=True)
        commit = api.upload_folder(
            folder_path="output",
            repo_id=repo,
            repo_type="model",
            ignore_patterns=UPLOAD_IGNORE,
            commit_message="Model trained with prompt2model on Hugging Face Jobs",
        )
    except Exception as error:  # noqa: BLE001 - reported through the protocol, then the job fails
        events.emit("error", message=f"could not upload the trained model to {repo}: {type(error).__name__}: {error}", code="upload-failed")
        return 1
    done.update(modelRepo=repo, modelRevision=getattr(commit, "oid", None))
    sys.stdout.write(json.dumps(done, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
