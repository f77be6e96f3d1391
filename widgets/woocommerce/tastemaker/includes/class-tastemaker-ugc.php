<?php
/**
 * The UGC carousel: a shortcode and a block placing `<tastemaker-ugc>`, and its loader script.
 *
 * The loader (`{Tastemaker URL}/widgets/ugc-loader.js`) is registered everywhere but enqueued only
 * where a shortcode or block renders, async and in the footer: it never holds back
 * DOMContentLoaded, and it starts the carousel only after the page's own load and largest paint,
 * when the browser is idle and the carousel is near the viewport.
 *
 * @package Tastemaker
 */

defined( 'ABSPATH' ) || exit;

/**
 * `[tastemaker_ugc product="123"]` and the `tastemaker/ugc` block.
 */
final class Tastemaker_Ugc {

	const HANDLE    = 'tastemaker-ugc-loader';
	const SHORTCODE = 'tastemaker_ugc';

	/**
	 * Hooks registration into init.
	 */
	public static function init() {
		add_action( 'init', array( __CLASS__, 'register' ) );
	}

	/**
	 * Registers the loader script, the shortcode and the block.
	 */
	public static function register() {
		$base = Tastemaker_Settings::tastemaker_url();
		if ( '' !== $base ) {
			wp_register_script(
				self::HANDLE,
				$base . '/widgets/ugc-loader.js',
				array(),
				TASTEMAKER_VERSION,
				array(
					'strategy'  => 'async',
					'in_footer' => true,
				)
			);
		}
		add_shortcode( self::SHORTCODE, array( __CLASS__, 'shortcode' ) );
		register_block_type( TASTEMAKER_DIR . 'blocks/ugc' );
	}

	/**
	 * The shortcode.
	 *
	 * @param array|string $atts Shortcode attributes.
	 * @return string
	 */
	public static function shortcode( $atts ) {
		$atts = shortcode_atts( array( 'product' => '' ), $atts, self::SHORTCODE );
		return self::render( $atts['product'] );
	}

	/**
	 * The carousel element for a product (the current product when none is given), and the
	 * loader enqueued for this page. Renders nothing until the plugin is configured.
	 *
	 * @param mixed $product Product id, or empty.
	 * @return string
	 */
	public static function render( $product = '' ) {
		$shop = Tastemaker_Settings::public_key();
		if ( '' === $shop || ! wp_script_is( self::HANDLE, 'registered' ) ) {
			return '';
		}
		$product_id = absint( $product );
		if ( 0 === $product_id ) {
			$product_id = self::current_product_id();
		}
		wp_enqueue_script( self::HANDLE );
		return sprintf(
			// The height matches the carousel's own, so the async loader shifts nothing.
			'<tastemaker-ugc shop="%1$s" product="%2$s" platform="woocommerce" style="display:block;height:532px"></tastemaker-ugc>',
			esc_attr( $shop ),
			esc_attr( $product_id ? (string) $product_id : '' )
		);
	}

	/**
	 * The product being shown, or 0.
	 *
	 * @return int
	 */
	private static function current_product_id() {
		if ( function_exists( 'is_product' ) && is_product() ) {
			return (int) get_the_ID();
		}
		return 0;
	}
}
