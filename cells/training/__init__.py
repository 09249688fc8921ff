"""Training cells on toy tasks whose solutions make the gates mean something.

    from gatescope.cells.training import train, TASKS
    run = train("lstm", "remember", hidden_size=8, steps=300)
    run.model.card["notes"]

``tasks`` holds the five tasks, ``optim`` Adam and gradient clipping,
``trainer`` the training loop and evaluation, ``notes`` the analysis that
writes a trained model's "what to look for", and ``make_presets`` the script
that trains the shipped presets. NumPy and the standard library only.
"""

from .tasks import TASKS, Batch, Task
from .trainer import LIMITS, Training, check_request, evaluate, outputs, train

__all__ = ["TASKS", "Task", "Batch", "LIMITS", "Training", "train", "evaluate", "outputs", "check_request"]
