from .optim_constructor import CLAMPOptimWrapperConstructor

__all__ = ['CLAMPOptimWrapperConstructor']
