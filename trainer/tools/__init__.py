"""Developer and operator tools the app never imports: bench, load test, rerun cost, serve, the render tool, and the body, anatomy and offset reports."""
