"""First step of a training job on Hugging Face Jobs, run as ``python -c`` (stdlib only: the image
has no Hub client yet). Downloads the job's private dataset repo (job.json, data, the worker) at the
pinned commit and hands over to ``p2m_worker.hf_job``. Reads HF_ENDPOINT, P2M_JOB_REPO,
P2M_JOB_REVISION and the HF_TOKEN secret; the token is sent to the Hub only, never printed.
"""
import json
import os
import sys
import tempfile
import urllib.parse
import urllib.request

endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
repo = os.environ["P2M_JOB_REPO"]
revision = os.environ.get("P2M_JOB_REVISION", "main")
hub_host = urllib.parse.urlsplit(endpoint).netloc


class SameHostAuth(urllib.request.HTTPRedirectHandler):
    """Large files redirect to storage with a signed URL: the token goes to the Hub's host only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != hub_host:
            new.remove_header("Authorization")
        return new


opener = urllib.request.build_opener(SameHostAuth)


def get(url):
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + os.environ["HF_TOKEN"]})
    return opener.open(request, timeout=600)


root = tempfile.mkdtemp(prefix="p2m-job-")
quoted = urllib.parse.quote(revision, safe="")
url = f"{endpoint}/api/datasets/{repo}/tree/{quoted}?recursive=true"
paths = []
while url:
    with get(url) as response:
        paths += [entry["path"] for entry in json.load(response) if entry.get("type") == "file"]
        link = response.headers.get("Link") or ""
    url = next((part.split(";")[0].strip(" <>") for part in link.split(",") if 'rel="next"' in part), None)
for path in paths:
    target = os.path.realpath(os.path.join(root, path))
    if not target.startswith(os.path.realpath(root) + os.sep):
        sys.exit(f"refusing a repo path outside the job folder: {path}")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with get(f"{endpoint}/datasets/{repo}/resolve/{quoted}/{urllib.parse.quote(path)}") as response, open(target, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)
print(json.dumps({"type": "log", "level": "info", "message": f"Downloaded {len(paths)} job files from {repo}"}), flush=True)
worker = os.path.join(root, "worker")
os.chdir(os.path.join(root, "job"))
env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [worker, os.environ.get("PYTHONPATH")])), PYTHONUNBUFFERED="1")
os.execve(sys.executable, [sys.executable, "-m", "p2m_worker.hf_job"], env)
