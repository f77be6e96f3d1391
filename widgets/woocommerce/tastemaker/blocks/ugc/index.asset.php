<?php
/**
 * Editor script dependencies of the tastemaker/ugc block (no build step: plain ES5).
 *
 * @package Tastemaker
 */

defined( 'ABSPATH' ) || exit;

return array(
	'dependencies' => array( 'wp-blocks', 'wp-element', 'wp-block-editor', 'wp-components', 'wp-i18n' ),
	'version'      => '0.1.0',
);
