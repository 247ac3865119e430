"""A scene as data: configs (distributions) + a seed -> a fully resolved SceneSpec, in pure Python."""
