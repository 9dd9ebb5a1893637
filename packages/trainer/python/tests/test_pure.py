"""Tests of the worker's pure parts (no torch needed): python3 -m unittest discover -s tests"""

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from p2m_worker import PROTOCOL_VERSION  # noqa: E402
from p2m_worker.config import ConfigError, load_config, parse_config, read_examples  # noqa: E402
from p2m_worker.deps import INSTALL_COMMAND, install_command, is_local_path, load_hint, missing_packages, offline_for_local  # noqa: E402
from p2m_worker.features import (  # noqa: E402
    IGNORE_INDEX,
    causal_features,
    count_batch_tokens,
    latest_checkpoint,
    pad_batch,
    seq2seq_features,
    total_steps,
)
from p2m_worker.lock import JobLocked, acquire, release  # noqa: E402
from p2m_worker.modules import default_target_modules  # noqa: E402
from p2m_worker.predict import InputError, batches, new_tokens, plan_model, prediction_line, read_prompts, required_packages  # noqa: E402
from p2m_worker.protocol import EventWriter, format_event  # noqa: E402
from p2m_worker.textualize import format_prompt, textualize  # noqa: E402
from p2m_worker.threads import cgroup_cpu_limit, choose_threads, usable_cores  # noqa: E402


class TextualizeTest(unittest.TestCase):
    def test_reference_prompt(self):
        self.assertEqual(format_prompt("Add one.", "2"), "<task 0>Add one.\nExample:\n2\nLabel:\n")

    def test_encoder_decoder_and_decoder_only(self):
        row = {"input": "2", "output": "3"}
        self.assertEqual(textualize(row, "Add one.", "encoder-decoder"), {"source": format_prompt("Add one.", "2"), "target": "3"})
        self.assertEqual(textualize(row, "Add one.", "decoder-only", "train", "</s>")["target"], "3</s>")
        self.assertEqual(textualize(row, "Add one.", "decoder-only", "test")["target"], "3")
        with self.assertRaises(ValueError):
            textualize(row, "Add one.", "decoder-only", "train", None)
        with self.assertRaises(ValueError):
            textualize(row, "Add one.", "unknown")


class ConfigTest(unittest.TestCase):
    def test_defaults_and_relative_paths(self):
        config = parse_config({"protocolVersion": PROTOCOL_VERSION, "job": {"baseModel": "t5-small", "data": {"train": "data/train.jsonl"}}}, "/jobs/a")
        self.assertEqual(config.train_path, "/jobs/a/data/train.jsonl")
        self.assertEqual(config.output_dir, "/jobs/a/output")
        self.assertEqual((config.lora.r, config.lora.alpha, config.lora.dropout), (8, 16, 0.05))
        self.assertEqual((config.method, config.precision, config.epochs), ("lora", "bf16", 3))
        self.assertIsNone(config.validation_path)

    def test_reads_the_typescript_field_names(self):
        config = parse_config(
            {
                "job": {
                    "baseModel": "gpt2",
                    "method": "full",
                    "epochs": 1.5,
                    "learningRate": 1e-4,
                    "batchSize": 4,
                    "gradientAccumulationSteps": 2,
                    "maxSourceLength": 64,
                    "maxTargetLength": 16,
                    "precision": "fp32",
                    "earlyStoppingPatience": 0,
                    "lora": {"r": 4, "alpha": 8, "dropout": 0, "targetModules": ["c_attn"]},
                    "data": {"train": "/abs/t.jsonl", "validation": "v.jsonl"},
                },
                "outputDir": "out",
                "saveMerged": False,
            },
            "/base",
        )
        self.assertEqual(config.method, "full")
        self.assertEqual(config.epochs, 1.5)
        self.assertEqual(config.batch_size, 4)
        self.assertEqual(config.lora.target_modules, ["c_attn"])
        self.assertEqual(config.train_path, "/abs/t.jsonl")
        self.assertEqual(config.validation_path, "/base/v.jsonl")
        self.assertFalse(config.save_merged)

    def test_rejects_bad_values_listing_all(self):
        with self.assertRaises(ConfigError) as caught:
            parse_config({"job": {"baseModel": "", "method": "qlora", "batchSize": 2.5, "precision": "fp8", "data": {}}})
        message = str(caught.exception)
        for field in ("baseModel", "method", "batchSize", "precision", "data.train"):
            self.assertIn(field, message)
        with self.assertRaises(ConfigError):
            parse_config({"protocolVersion": 99, "job": {}})

    def test_load_config_and_examples(self):
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "t.jsonl"), "w") as handle:
                handle.write('{"input": "a", "output": "b", "meta": {}}\n\n{"input": "c", "output": "d"}\n')
            with open(os.path.join(folder, "job.json"), "w") as handle:
                json.dump({"job": {"baseModel": "x", "data": {"train": "t.jsonl"}}}, handle)
            config = load_config(os.path.join(folder, "job.json"))
            self.assertEqual(read_examples(config.train_path), [{"input": "a", "output": "b"}, {"input": "c", "output": "d"}])
            with open(os.path.join(folder, "bad.jsonl"), "w") as handle:
                handle.write('{"input": "a", "output": "b"}\n{"input": 1}\n')
            with self.assertRaisesRegex(ConfigError, "line 2"):
                read_examples(os.path.join(folder, "bad.jsonl"))


class FeaturesTest(unittest.TestCase):
    def test_causal_masks_the_prompt_and_keeps_its_end(self):
        row = causal_features([1, 2, 3, 4], [7, 8, 9], max_source_length=3, max_target_length=2)
        self.assertEqual(row["input_ids"], [2, 3, 4, 7, 8])
        self.assertEqual(row["labels"], [IGNORE_INDEX] * 3 + [7, 8])
        self.assertEqual(row["attention_mask"], [1] * 5)

    def test_seq2seq_truncates(self):
        row = seq2seq_features([1, 2, 3], [4, 5, 6], 2, 2)
        self.assertEqual(row, {"input_ids": [1, 2], "attention_mask": [1, 1], "labels": [4, 5]})

    def test_pad_batch(self):
        batch = pad_batch([{"input_ids": [1], "attention_mask": [1], "labels": [5]}, {"input_ids": [1, 2], "attention_mask": [1, 1], "labels": [5, 6]}], 0)
        self.assertEqual(batch["input_ids"], [[1, 0], [1, 2]])
        self.assertEqual(batch["attention_mask"], [[1, 0], [1, 1]])
        self.assertEqual(batch["labels"], [[5, IGNORE_INDEX], [5, 6]])

    def test_count_batch_tokens(self):
        batch = pad_batch([{"input_ids": [1, 2], "attention_mask": [1, 1], "labels": [5]}, {"input_ids": [3], "attention_mask": [1], "labels": [6, 7]}], 0)
        self.assertEqual(count_batch_tokens(batch), 3)
        self.assertEqual(count_batch_tokens(batch, encoder_decoder=True), 6)

    def test_total_steps(self):
        self.assertEqual(total_steps(16, 4, 1, 2), 8)
        self.assertEqual(total_steps(17, 4, 2, 1), 3)
        self.assertEqual(total_steps(16, 4, 1, 1, world_size=2), 2)

    def test_latest_checkpoint_needs_a_complete_folder(self):
        with tempfile.TemporaryDirectory() as folder:
            self.assertIsNone(latest_checkpoint(folder))
            for step, complete in ((5, True), (20, True), (30, False)):
                path = os.path.join(folder, f"checkpoint-{step}")
                os.makedirs(path)
                if complete:
                    open(os.path.join(path, "trainer_state.json"), "w").close()
            self.assertEqual(latest_checkpoint(folder), os.path.join(folder, "checkpoint-20"))
            self.assertIsNone(latest_checkpoint(os.path.join(folder, "missing")))


class ModulesTest(unittest.TestCase):
    T5 = ["encoder.block.0.layer.0.SelfAttention.q", "encoder.block.0.layer.0.SelfAttention.k", "encoder.block.0.layer.0.SelfAttention.v", "encoder.block.0.layer.0.SelfAttention.o"]
    LLAMA = [f"model.layers.0.self_attn.{n}" for n in ("q_proj", "k_proj", "v_proj", "o_proj")]

    def test_family_defaults(self):
        self.assertEqual(default_target_modules("t5", self.T5), ["q", "k", "v", "o"])
        self.assertEqual(default_target_modules("llama", self.LLAMA), ["q_proj", "k_proj", "v_proj", "o_proj"])

    def test_unknown_type_is_matched_by_module_names(self):
        self.assertEqual(default_target_modules("brand_new", self.LLAMA), ["q_proj", "k_proj", "v_proj", "o_proj"])
        with self.assertRaisesRegex(ValueError, "targetModules"):
            default_target_modules("brand_new", ["encoder.layer.0.attention.self.query"])


class ProtocolTest(unittest.TestCase):
    def test_format_event_is_one_json_line_without_nan(self):
        line = format_event("step", step=3, loss=float("nan"), skipped=None, metrics={"a": float("inf"), "b": 1.5})
        self.assertNotIn("\n", line)
        self.assertEqual(json.loads(line), {"type": "step", "step": 3, "loss": None, "metrics": {"a": None, "b": 1.5}})

    def test_writer_mirrors_to_the_log_and_only_on_rank_zero(self):
        with tempfile.TemporaryDirectory() as folder:
            stream = io.StringIO()
            log = os.path.join(folder, "out", "events.jsonl")
            writer = EventWriter(stream, log, enabled=True)
            writer.emit("log", message="hi")
            writer.close()
            self.assertEqual(json.loads(stream.getvalue())["message"], "hi")
            with open(log) as handle:
                self.assertEqual(json.loads(handle.read())["type"], "log")
            quiet = io.StringIO()
            EventWriter(quiet, None, enabled=False).emit("log", message="hidden")
            self.assertEqual(quiet.getvalue(), "")


class DependencyTest(unittest.TestCase):
    def test_missing_packages_and_install_command(self):
        self.assertEqual(missing_packages(lambda name: None if name in ("peft", "torch") else object()), ["torch", "peft"])
        self.assertEqual(missing_packages(lambda name: object()), [])
        self.assertEqual(install_command(["peft"]), INSTALL_COMMAND)
        self.assertEqual(missing_packages(lambda name: None, names=["torch", "transformers"]), ["torch", "transformers"])
        self.assertIn("requirements-cpu.txt", INSTALL_COMMAND)
        with open(INSTALL_COMMAND.split('"')[1], encoding="utf-8") as handle:
            self.assertIn("peft==", handle.read())


class LocalModelTest(unittest.TestCase):
    def test_local_paths_run_offline_and_hub_ids_do_not(self):
        with tempfile.TemporaryDirectory() as folder:
            self.assertTrue(is_local_path(folder))
            self.assertTrue(is_local_path("./not-yet-there"))
            self.assertFalse(is_local_path("google/flan-t5-small"))
            saved = {key: os.environ.pop(key, None) for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
            try:
                offline_for_local("google/flan-t5-small")
                self.assertNotIn("HF_HUB_OFFLINE", os.environ)
                offline_for_local(folder, None)
                self.assertEqual(os.environ.get("HF_HUB_OFFLINE"), "1")
            finally:
                for key, value in saved.items():
                    os.environ.pop(key, None)
                    if value is not None:
                        os.environ[key] = value
            self.assertIn("config.json", load_hint(folder))
            self.assertNotIn("resume", load_hint("org/model").lower())

    def test_a_missing_local_model_path_is_invalid_input(self):
        with self.assertRaises(InputError):
            plan_model("./no-such-model-folder")


class PredictTest(unittest.TestCase):
    def test_read_prompts_takes_strings_or_prompt_objects(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "in.jsonl")
            with open(path, "w") as handle:
                handle.write('"<task 0>a\\nLabel:\\n"\n\n{"prompt": "b", "extra": 1}\n')
            self.assertEqual(read_prompts(path), ["<task 0>a\nLabel:\n", "b"])
            with open(path, "a") as handle:
                handle.write('{"input": "c"}\n')
            with self.assertRaisesRegex(InputError, "line 4"):
                read_prompts(path)

    def test_batches_keep_order_and_start_indices(self):
        self.assertEqual(list(batches(list("abcde"), 2)), [(0, ["a", "b"]), (2, ["c", "d"]), (4, ["e"])])
        self.assertEqual(list(batches([], 3)), [])
        with self.assertRaises(ValueError):
            list(batches(["a"], 0))

    def test_new_tokens_drop_the_left_padded_prompt(self):
        self.assertEqual(new_tokens([[0, 0, 5, 6, 7, 8], [3, 4, 5, 6, 9, 2]], 4), [[7, 8], [9, 2]])

    def test_plan_model_finds_model_or_adapter(self):
        with tempfile.TemporaryDirectory() as folder:
            merged = os.path.join(folder, "merged")
            adapter = os.path.join(folder, "adapter")
            empty = os.path.join(folder, "empty")
            for path in (merged, adapter, empty):
                os.makedirs(path)
            open(os.path.join(merged, "config.json"), "w").close()
            with open(os.path.join(adapter, "adapter_config.json"), "w") as handle:
                json.dump({"base_model_name_or_path": "google/flan-t5-small"}, handle)
            self.assertEqual(plan_model(merged), {"model": merged, "adapter": None, "tokenizer": merged})
            # No tokenizer saved with the adapter: the base model's.
            self.assertEqual(plan_model(adapter), {"model": "google/flan-t5-small", "adapter": adapter, "tokenizer": "google/flan-t5-small"})
            open(os.path.join(adapter, "tokenizer_config.json"), "w").close()
            self.assertEqual(plan_model(adapter, base_model="/models/t5"), {"model": "/models/t5", "adapter": adapter, "tokenizer": adapter})
            self.assertEqual(plan_model("/models/t5", adapter_dir=adapter)["adapter"], adapter)
            with self.assertRaisesRegex(InputError, "neither a model"):
                plan_model(empty)
            self.assertEqual(plan_model("org/some-model")["model"], "org/some-model")
            # A job's output/ folder: the model its result.json names.
            with open(os.path.join(folder, "result.json"), "w") as handle:
                json.dump({"model": "merged", "merged": "merged", "adapter": "adapter"}, handle)
            self.assertEqual(plan_model(folder)["model"], merged)
            with open(os.path.join(folder, "result.json"), "w") as handle:
                json.dump({"metrics": {}}, handle)
            with self.assertRaisesRegex(InputError, "names no model"):
                plan_model(folder)

    def test_prediction_lines_and_required_packages(self):
        self.assertEqual(json.loads(prediction_line(3, "ü", 1.23456)), {"index": 3, "output": "ü", "latencyMs": 1.235})
        self.assertEqual(required_packages(None), ["torch", "transformers"])
        self.assertEqual(required_packages("adapter"), ["torch", "transformers", "peft"])


class LockTest(unittest.TestCase):
    def test_one_worker_per_job_folder_and_stale_locks_are_taken_over(self):
        with tempfile.TemporaryDirectory() as folder:
            path = acquire(folder)
            # Our own pid is alive: a second worker (another pid) is refused.
            with self.assertRaises(JobLocked) as caught:
                acquire(folder, pid=os.getpid() + 1)
            self.assertEqual(caught.exception.pid, os.getpid())
            release(path)
            self.assertFalse(os.path.exists(path))
            # A lock left by a process that no longer exists is stale.
            dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
            import socket

            with open(os.path.join(folder, "worker.lock"), "w") as handle:
                handle.write(f"{dead} {socket.gethostname()}\n")
            release(acquire(folder))


class EntryPointTest(unittest.TestCase):
    def run_worker(self, folder, *args):
        env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
        return subprocess.run([sys.executable, "-m", "p2m_worker", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=60)

    def test_check_mode_validates_without_torch(self):
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "t.jsonl"), "w") as handle:
                handle.write('{"input": "a", "output": "b"}\n')
            with open(os.path.join(folder, "job.json"), "w") as handle:
                json.dump({"job": {"baseModel": "x", "data": {"train": "t.jsonl"}}}, handle)
            done = self.run_worker(folder, "--config", "job.json", "--check")
            self.assertEqual(done.returncode, 0, done.stderr)
            events = [json.loads(line) for line in done.stdout.splitlines()]
            self.assertEqual(events[-1]["type"], "done")
            self.assertEqual(events[-1]["trainExamples"], 1)
            self.assertTrue(os.path.isfile(os.path.join(folder, "output", "events.jsonl")))

    def run_predict(self, folder, *args):
        env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
        return subprocess.run([sys.executable, "-m", "p2m_worker.predict", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=60)

    def test_predict_reports_bad_input_and_missing_packages_as_events(self):
        with tempfile.TemporaryDirectory() as folder:
            os.makedirs(os.path.join(folder, "model"))
            open(os.path.join(folder, "model", "config.json"), "w").close()
            with open(os.path.join(folder, "in.jsonl"), "w") as handle:
                handle.write('"a prompt"\n')
            bad = self.run_predict(folder, "--model", "model", "--input", "missing.jsonl", "--output", "out.jsonl")
            self.assertEqual(bad.returncode, 2)
            event = json.loads(bad.stdout.splitlines()[-1])
            self.assertEqual((event["type"], event["code"]), ("error", "invalid-input"))
            done = self.run_predict(folder, "--model", "model", "--input", "in.jsonl", "--output", "out.jsonl")
            event = json.loads(done.stdout.splitlines()[-1])
            if missing_packages(names=["torch", "transformers"]):
                self.assertEqual(done.returncode, 3)
                self.assertEqual((event["type"], event["code"]), ("error", "missing-dependency"))
                self.assertIn("pip install", event["install"])
            else:
                # With the stack installed, an empty config.json is a loading error, still an event.
                self.assertEqual((done.returncode, event["type"]), (1, "error"))

    def test_bad_config_is_an_error_event(self):
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "job.json"), "w") as handle:
                handle.write("{not json")
            done = self.run_worker(folder, "--config", "job.json")
            self.assertEqual(done.returncode, 2)
            event = json.loads(done.stdout.splitlines()[-1])
            self.assertEqual((event["type"], event["code"]), ("error", "invalid-config"))


class ThreadsTest(unittest.TestCase):
    def test_usable_cores_from_affinity_and_quota(self):
        self.assertEqual(usable_cores(affinity=8), 8)
        self.assertEqual(usable_cores(affinity=8, quota=2.0), 2)
        self.assertEqual(usable_cores(affinity=8, quota=1.5), 2)
        self.assertEqual(usable_cores(affinity=2, quota=16), 2)
        self.assertEqual(usable_cores(affinity=0), 1)

    def test_cgroup_quota_files(self):
        with tempfile.TemporaryDirectory() as root:
            self.assertIsNone(cgroup_cpu_limit(root))
            with open(os.path.join(root, "cpu.max"), "w") as handle:
                handle.write("150000 100000\n")
            self.assertEqual(cgroup_cpu_limit(root), 1.5)
            with open(os.path.join(root, "cpu.max"), "w") as handle:
                handle.write("max 100000\n")
            self.assertIsNone(cgroup_cpu_limit(root))
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "cpu"))
            for name, value in (("cpu.cfs_quota_us", "300000"), ("cpu.cfs_period_us", "100000")):
                with open(os.path.join(root, "cpu", name), "w") as handle:
                    handle.write(value)
            self.assertEqual(cgroup_cpu_limit(root), 3.0)

    def test_choice_leaves_a_core_on_small_machines_and_honours_overrides(self):
        self.assertEqual(choose_threads(cores=1, environment={})["intraOp"], 1)
        self.assertEqual(choose_threads(cores=2, environment={}), {"intraOp": 1, "interOp": 1, "usableCores": 2, "source": "auto"})
        self.assertEqual(choose_threads(cores=4, environment={})["intraOp"], 3)
        self.assertEqual(choose_threads(cores=16, environment={})["intraOp"], 16)
        self.assertEqual(choose_threads(cores=2, environment={"P2M_THREADS": "2"})["intraOp"], 2)
        self.assertEqual(choose_threads(cores=2, environment={"P2M_THREADS": "2"})["source"], "P2M_THREADS")
        self.assertEqual(choose_threads(3, cores=2, environment={"P2M_THREADS": "2"}), {"intraOp": 3, "interOp": 1, "usableCores": 2, "source": "job"})
        self.assertEqual(choose_threads(cores=2, environment={"P2M_THREADS": "0"})["source"], "torch default")
        with self.assertRaisesRegex(ValueError, "P2M_THREADS"):
            choose_threads(cores=2, environment={"P2M_THREADS": "lots"})

    def test_job_threads_are_validated(self):
        base = {"protocolVersion": PROTOCOL_VERSION, "job": {"baseModel": "t5-small", "data": {"train": "train.jsonl"}}}
        self.assertIsNone(parse_config(base).threads)
        self.assertEqual(parse_config({**base, "job": {**base["job"], "threads": 2}}).threads, 2)
        with self.assertRaisesRegex(ConfigError, "threads"):
            parse_config({**base, "job": {**base["job"], "threads": 0}})


if __name__ == "__main__":
    unittest.main()


class RayTrainPureTest(unittest.TestCase):
    """The Ray runner's parts that need no Ray: arguments, the cluster's description, the event
    stream to the driver, and the missing-Ray error (the runner itself is tested from the CLI)."""

    def test_arguments_and_cluster_description(self):
        from p2m_worker import ray_train

        options = ray_train.parse_args(["--config", "job.json", "--workers", "2"])
        self.assertEqual((options.workers, options.gpus_per_worker, options.cpus_per_worker, options.address), (2, 0, 1, None))
        self.assertEqual(ray_train.cluster_label(options), "a local Ray cluster started for the job: 2 workers × 1 CPU (gloo)")
        gpu = ray_train.parse_args(["--config", "j", "--workers", "4", "--gpus-per-worker", "1", "--address", "ray://head:10001"])
        self.assertEqual(ray_train.cluster_label(gpu), "Ray cluster at ray://head:10001: 4 workers × 1 GPU (nccl)")
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            ray_train.parse_args(["--config", "j", "--workers", "0"])

    def test_channel_stream_sends_whole_lines(self):
        from p2m_worker import ray_train

        sent = []

        class Channel:
            class put:
                @staticmethod
                def remote(line):
                    sent.append(line)

        stream = ray_train._ChannelStream(Channel())
        writer = EventWriter(stream=stream, enabled=True)
        writer.emit("step", step=1, loss=2.5)
        stream.write('{"type":"log"')
        self.assertEqual(len(sent), 1)
        stream.write(',"message":"x"}\n')
        self.assertEqual([json.loads(line)["type"] for line in sent], ["step", "log"])

    def test_missing_ray_names_the_setup_command(self):
        from p2m_worker import ray_train

        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "data"))
            with open(os.path.join(root, "data", "train.jsonl"), "w", encoding="utf-8") as handle:
                handle.write('{"input": "a", "output": "b"}\n')
            with open(os.path.join(root, "job.json"), "w", encoding="utf-8") as handle:
                json.dump({"protocolVersion": PROTOCOL_VERSION, "job": {"baseModel": "m", "data": {"train": "data/train.jsonl"}}, "outputDir": "output"}, handle)
            script = (
                "import sys; sys.path.insert(0, sys.argv[1]); from p2m_worker import ray_train;"
                "ray_train.missing_packages = lambda names=None: ['ray'] if names else [];"
                "sys.exit(ray_train.main(['--config', sys.argv[2]]))"
            )
            result = subprocess.run([sys.executable, "-c", script, os.path.dirname(HERE), os.path.join(root, "job.json")], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 3, result.stderr)
        event = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertEqual(event["code"], "missing-dependency")
        self.assertIn("prompt2model setup --with ray", event["install"])
