"""Progress bars shared by every package of the family (public).

``progress=True`` on the parallel maps, ``CatalogPipeline.run``, ``pipekit_jax.fit`` and
``pipekit run --progress`` all draw their bar with :func:`progress_bar`: tqdm, imported
only when a bar is asked for (the ``progress`` extra).

Example:
    >>> from pipekit.progress import progress_bar
    >>> with progress_bar(2, "demo", enabled=False) as bar:
    ...     bar.update(2)
"""

from ._progress import ProgressBar as ProgressBar, progress_bar as progress_bar

__all__ = ["ProgressBar", "progress_bar"]
