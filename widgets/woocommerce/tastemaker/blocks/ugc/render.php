<?php
/**
 * Server rendering of the tastemaker/ugc block.
 *
 * @package Tastemaker
 *
 * @var array $attributes Block attributes.
 */

defined( 'ABSPATH' ) || exit;

$tastemaker_carousel = Tastemaker_Ugc::render( isset( $attributes['product'] ) ? (int) $attributes['product'] : 0 );
if ( '' !== $tastemaker_carousel ) {
	// The element is built from escaped values in Tastemaker_Ugc::render().
	printf( '<div %1$s>%2$s</div>', get_block_wrapper_attributes(), $tastemaker_carousel ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
}
