"""pipekit_jax: JAX transforms and training for pipekit pipelines.

What it will own (see ``ARCHITECTURE.md``): ``jit`` / ``vmap`` / ``shard`` of any
Operator with a cached, pre-partitioned call path; training of a pipeline's array leaves
with optax; saving and loading weights beside the YAML config; helpers for differentiable
operators. Today every Operator is already an equinox Module, so ``eqx.filter_jit``,
``eqx.filter_vmap`` and ``eqx.filter_grad`` work on pipelines directly.
"""

__all__: list[str] = []
