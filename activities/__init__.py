"""Activities: one class per bounded context, dependencies injected. They translate, call and
classify errors; they decide nothing."""
