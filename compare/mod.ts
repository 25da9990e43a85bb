/**
 * Runs server modes × plans side by side and renders the comparison.
 *
 * @module
 */
export {};
