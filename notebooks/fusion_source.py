# %% [markdown]
# # Case 11: differentiable fusion of optical, SAR and DEM
#
# The Graph of Case 11 as written, with `crop_classifier` a `pipekit_jax.nn.ConvNet`
# behind `pa.ModelOp` and a learnable `BandNormalize` in front of it, trained with
# `pipekit_jax.fit` on synthetic scenes whose classes need all three sensors (water;
# vegetation vs. soil from the optical bands, smooth vs. rough from SAR backscatter,
# lowland vs. upland from the DEM). Built by `notebooks/build_fusion.py`.

# %%
import importlib.util
import tempfile

import jax.numpy as jnp
import numpy as np

import geocatalog as gc

spec = importlib.util.spec_from_file_location("case11", "examples/case11_fusion/train_fusion.py")
case11 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(case11)
result = case11.main(tempfile.mkdtemp(), steps=STEPS)  # noqa: F821 - set by the builder
losses = result["losses"]
print(
    f"{len(losses)} steps: loss {losses[0]:.3f} -> {losses[-1]:.3f} "
    f"({losses[0] / losses[-1]:.0f}x lower)"
)
print(
    "held-out accuracy: "
    + ", ".join(
        f"{name} {result[name + '_accuracy']:.3f}" for name in ("fused", "optical", "sar", "dem")
    )
)
print(f"reloaded from {result['saved']}: max |logit gap| = {result['reload_gap']}")

# %% [markdown]
# The loss curve (log scale, one column per step).


# %%
def loss_curve(values, height=160):
    logs = np.log10(np.asarray(values))
    lo, hi = logs.min(), logs.max()
    rows = np.round((hi - logs) / max(hi - lo, 1e-9) * (height - 1)).astype(int)
    image = np.full((height, len(values)), 255, np.uint8)
    for col, row in enumerate(rows):
        image[row, col] = 0
        if col:  # join to the previous point
            a, b = sorted((rows[col - 1], row))
            image[a : b + 1, col] = 0
    return image


curve = loss_curve(losses)
grid = case11.scenes(range(100, 101))[0].optical.transform  # any grid: only the PNG is used
show(gc.GeoTensor(curve[None], grid, "EPSG:32630").to_png_bytes())  # noqa: F821

# %% [markdown]
# A held-out scene: the predicted class map (left) next to the truth (right); grey levels
# are the 9 classes, water black; each 10 m pixel is drawn 4 x 4.

# %%
scene = case11.scenes(range(100, 101))[0]
batch = case11.as_batch([scene])
predicted = np.asarray(jnp.argmax(case11.logits(result["trained"], batch), axis=1))[0]
truth = scene.labels.values
gap = np.full((truth.shape[0], 4), 255, np.uint8)
side = np.concatenate([predicted.astype(np.uint8) * 28, gap, truth * 28], axis=1)
side = np.kron(side, np.ones((4, 4), np.uint8))  # 4x larger, each pixel a 4 x 4 block
print(f"pixels right on this scene: {np.mean(predicted == truth):.3f}")
show(gc.GeoTensor(side[None], scene.labels.transform, "EPSG:32630").to_png_bytes())  # noqa: F821
