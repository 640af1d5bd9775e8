"""The evaluator: loads exported layer graphs and applies them to the trusted inputs.

It never imports or runs student code: it reads graph files written by the student
process, refuses every op outside its framework's allow-list before loading, applies the
graph to inputs that the student process never saw and computes gradients with the
framework's own autograd. Every module imports only the standard library and NumPy at
import time (frameworks inside functions), so the files can be copied alone into a sandbox.
"""
