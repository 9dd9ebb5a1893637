"""prompt2model training worker: reads a job.json, trains with transformers + peft, reports JSON lines.

The modules other than ``train`` import nothing heavy, so the protocol, config parsing and
textualisation can be used (and tested) without torch.
"""

PROTOCOL_VERSION = 1
__version__ = "0.1.0"
