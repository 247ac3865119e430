"""The bpy layer: the only package that imports ``bpy``. It builds a SceneSpec in Blender, runs
rigid-body physics and renders with Cycles; everything else in the project is pure Python."""
