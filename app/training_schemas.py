"""GET /api/models/{id}/training: a page-trained model's training, replayable.

The worker (app/train_worker.py) keeps the probe of every snapshot (the gates and states of the task's example
input), as float16, with the run's loss and accuracy; the store (app/store.py) keeps them beside the model. This
module types the answer and builds it from what the store read. Values go out at 4 significant digits, which is
all a float16 holds.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from . import wire


class TrainingSnapshot(BaseModel):
    step: int = Field(description="Optimizer steps taken before this snapshot (0: the untrained model).")
    loss: float | None = Field(description="Loss of the first training batch this snapshot's model met (step + 1's; the "
                                           "last snapshot: its own step's); null if the run took no step.")
    accuracy: float | None = Field(description="Accuracy on that batch, as the task measures it.")
    values: dict[str, list[list[float]]] = Field(description="Per probe name: its values on the example, steps x units.")


class TrainingCurve(BaseModel):
    step: list[int]
    loss: list[float]
    accuracy: list[float]


class StoredSize(BaseModel):
    dtype: str = Field(description="How the values are kept on the server.")
    values: int = Field(description="Values of every snapshot together.")
    bytes: int = Field(description="Their size as stored.")


class TrainingReplay(BaseModel):
    id: str
    kind: str
    task: str
    task_title: str
    example: str = Field(description="The task's example input that every snapshot traces.")
    input_type: str
    tokens: list[str] = Field(description="One label per step of the example.")
    names: list[str] = Field(description="The probe's names, in the kind's glossary.")
    snapshots: list[TrainingSnapshot]
    curve: TrainingCurve = Field(description="Loss and accuracy of the training batches, thinned to about 500 steps.")
    stored: StoredSize


def replay_body(model_id: str, record: dict) -> bytes:
    """The JSON of TrainingReplay from a stored record ({"meta", "arrays"}: see ModelStore.training)."""
    meta, arrays = record["meta"], record["arrays"]
    names = meta["names"]
    shown = {n: wire.rounded(arrays[n].astype("float32"), 4) for n in names}
    snapshots = [{"step": s, "loss": meta["loss"][i], "accuracy": meta["accuracy"][i], "values": {n: shown[n][i] for n in names}}
                 for i, s in enumerate(meta["steps"])]
    stored = {"dtype": "float16", "values": sum(int(a.size) for a in arrays.values()),
              "bytes": sum(int(a.nbytes) for a in arrays.values())}
    body = {"id": model_id, **{k: meta[k] for k in ("kind", "task", "task_title", "example", "input_type", "tokens", "names")},
            "snapshots": snapshots, "curve": meta["curve"], "stored": stored}
    return wire.dumps(body)
