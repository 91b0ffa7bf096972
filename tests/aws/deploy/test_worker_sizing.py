"""The service's duration cap sizes the worker (issue 13).

Before: timeout 120 s and 1 GB of /tmp whatever ``MaxDurationS`` said, so a 600 s tone
at 192 kHz x 8 channels x float32 (3.69 GB) filled /tmp after about 165 s of audio.
Now ``max_duration_s`` sets the worker's timeout, /tmp and batch size and the queue's
visibility timeout (template parameters), or deploy refuses a cap the worker cannot meet.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.aws.deploy.test_deploy import run_deploy, small_bundle
from tests.aws.resources import REGION, new_session
from wavekit import deploy as d
from wavekit.deploy import limits
from wavekit.errors import DeployConfigError

CAPS = (1.0, 10.0, 60.0, 120.0, 165.0, 300.0, 450.0, 600.0)
MIB = 1024**2


def worst_case_spec(duration: float) -> Any:
    from wavekit.audio.spec import MAX_CHANNELS, MAX_SAMPLE_RATE, ToneSpec

    return ToneSpec(
        frequencies=[440],
        duration=duration,
        sample_rate=MAX_SAMPLE_RATE,
        number_of_channels=MAX_CHANNELS,
        bits_per_sample="float32",
    )


@pytest.mark.parametrize("cap", CAPS)
def test_every_cap_fits_lambda_and_the_largest_file(cap: float) -> None:
    from wavekit.audio import wavfile

    sizing = d.size_worker(cap)
    # the worst case is the largest file the spec allows at this duration
    assert sizing.file_bytes >= wavfile.data_bytes(worst_case_spec(cap))
    # Lambda's limits
    assert 1 <= sizing.batch_size <= limits.MAX_BATCH
    assert sizing.timeout_s <= 900
    assert 512 <= sizing.ephemeral_mb <= 10_240
    # a whole batch of worst-case jobs, each with its budget, and the handler's reserve
    assert sizing.timeout_s >= sizing.batch_size * sizing.job_budget_s + limits.WORKER_RESERVE_S
    # /tmp: the file being made and a partial one a killed invocation left, with room
    assert sizing.ephemeral_mb * MIB >= 2 * sizing.file_bytes + 512 * MIB
    # Lambda's SQS trigger: visibility >= 6 x the function timeout
    assert sizing.visibility_timeout_s >= 6 * sizing.timeout_s


def test_longer_caps_get_more_time_and_room() -> None:
    sizes = [d.size_worker(cap) for cap in CAPS]
    budgets = [s.job_budget_s for s in sizes]
    assert budgets == sorted(budgets)
    assert [s.ephemeral_mb for s in sizes] == sorted(s.ephemeral_mb for s in sizes)
    longest = d.size_worker(600)
    # what the issue measured: 1 GB of /tmp held about 165 s; 600 s now fits
    assert longest.file_bytes == 600 * 192_000 * 8 * 4
    assert longest.ephemeral_mb * MIB > longest.file_bytes > 1024 * MIB
    assert longest.timeout_s > 120
    assert longest.batch_size == 1  # one 3.69 GB file per invocation


def test_the_budget_follows_the_measured_rates() -> None:
    """Synthesis at 22 MB/s measured / 2.5, upload at 37 MB/s / 2, 10 s per job."""
    file_bytes = d.size_worker(60).file_bytes
    assert d.size_worker(60).job_budget_s == pytest.approx(
        file_bytes / 8.8e6 + file_bytes / 18.5e6 + 10
    )


def test_a_cap_the_worker_cannot_meet_is_refused() -> None:
    # a slower synthesis rate: one 600 s job no longer fits 900 s
    with pytest.raises(DeployConfigError, match=r"^max_duration_s: .*Lambda's limit of 900 s"):
        d.size_worker(600, synth_bytes_per_s=4e6)
    # fast enough, but two 900 s files do not fit 10,240 MB of /tmp
    with pytest.raises(DeployConfigError, match=r"^max_duration_s: .*limit of 10,240 MB"):
        d.size_worker(900, synth_bytes_per_s=1e9, upload_bytes_per_s=1e9)
    # the message says which cap does fit, and that cap is accepted
    with pytest.raises(DeployConfigError, match=r"at most (\d+) s fits") as caught:
        d.size_worker(600, synth_bytes_per_s=4e6)
    fits = float(caught.value.args[0].rsplit("at most ", 1)[1].split(" s")[0])
    assert d.size_worker(fits, synth_bytes_per_s=4e6).timeout_s <= 900


def test_deploy_config_refuses_what_the_worker_cannot_meet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Had synthesis measured 4x slower, a 600 s cap would be refused at once (exit 2)."""
    d.DeployConfig(max_duration_s=600)
    monkeypatch.setattr(limits, "SYNTH_MEASURED_BYTES_PER_S", 22e6 / 4)
    with pytest.raises(DeployConfigError, match=r"^max_duration_s: .*900 s"):
        d.DeployConfig(max_duration_s=600)
    d.DeployConfig(max_duration_s=150)


def test_the_handler_reserve_is_the_one_the_sizing_assumes() -> None:
    from wavekit.handlers.worker import WORKER_RESERVE_MS

    assert limits.WORKER_RESERVE_S * 1000 == WORKER_RESERVE_MS


def test_the_template_takes_the_sizing_from_parameters() -> None:
    resources = d.load_template()["Resources"]
    worker = resources["WorkerFunction"]["Properties"]
    assert worker["Timeout"] == {"Ref": "WorkerTimeoutS"}
    assert worker["EphemeralStorage"] == {"Size": {"Ref": "WorkerEphemeralStorageMB"}}
    assert resources["WorkerTrigger"]["Properties"]["BatchSize"] == {"Ref": "WorkerBatchSize"}
    queue = resources["JobsQueue"]["Properties"]
    assert queue["VisibilityTimeout"] == {"Ref": "JobsVisibilityTimeoutS"}
    for cap in CAPS:
        config = d.DeployConfig(max_duration_s=cap)
        parameters = config.parameters("b", "a", "r")
        sizing = d.size_worker(cap)
        assert parameters["MaxDurationS"] == f"{cap:g}"
        assert parameters["WorkerTimeoutS"] == str(sizing.timeout_s)
        assert parameters["WorkerEphemeralStorageMB"] == str(sizing.ephemeral_mb)
        assert parameters["WorkerBatchSize"] == str(sizing.batch_size)
        assert parameters["JobsVisibilityTimeoutS"] == str(sizing.visibility_timeout_s)


def test_the_plan_explains_the_sizing() -> None:
    plan = d.plan(d.DeployConfig(max_duration_s=600))
    text = "\n".join(plan.lines())
    assert "worker sized for 600 s tones at 192 kHz x 8 ch x float32 (3,686 MB)" in text
    assert "timeout 660 s" in text
    assert "WorkerTimeoutS = 660" in text


def test_a_600_s_cap_deploys_a_worker_that_meets_it(aws_env: None, tmp_path: Path) -> None:
    session = new_session()
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("python/awswrangler/__init__.py", "")
    layer = session.client("lambda").publish_layer_version(
        LayerName="pandas", Content={"ZipFile": content.getvalue()}
    )["LayerVersionArn"]
    bundles = {"api": small_bundle(tmp_path, "api"), "refresh": small_bundle(tmp_path, "refresh")}
    config = d.DeployConfig(
        stage="long", region=REGION, sdk_pandas_layer_arn=layer, max_duration_s=600
    )
    result, _ = run_deploy(session, config, bundles)
    assert result.status == "CREATE_COMPLETE"
    sizing = config.worker
    lam = session.client("lambda")
    functions = {f["Handler"]: f for f in lam.list_functions()["Functions"]}
    worker = functions["wavekit.handlers.worker.handler"]
    assert worker["Timeout"] == sizing.timeout_s > 600
    queue = session.client("sqs").get_queue_attributes(
        QueueUrl=result.outputs["QueueUrl"], AttributeNames=["VisibilityTimeout"]
    )["Attributes"]
    assert int(queue["VisibilityTimeout"]) == sizing.visibility_timeout_s >= 6 * worker["Timeout"]
    (mapping,) = lam.list_event_source_mappings()["EventSourceMappings"]
    assert mapping["BatchSize"] == sizing.batch_size == 1


def test_the_readme_table_is_the_sizing() -> None:
    readme = (Path(__file__).resolve().parents[3] / "deploy" / "README.md").read_text()
    rows = [line for line in readme.splitlines() if re.match(r"^\| \d+ s", line)]
    assert len(rows) >= 3
    for row in rows:
        cap, batch, timeout, tmp, visibility = (c.strip() for c in row.strip("|").split("|"))
        sizing = d.size_worker(float(cap.split()[0]))
        assert int(batch) == sizing.batch_size, row
        assert timeout == f"{sizing.timeout_s} s", row
        assert tmp == f"{sizing.ephemeral_mb:,} MB", row
        assert visibility == f"{sizing.visibility_timeout_s:,} s", row
