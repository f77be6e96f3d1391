/* The tastemaker/ugc block in the editor: a placeholder and a product id setting. Rendered on
 * the server (render.php), so nothing is saved in the post but the block comment. */
( function ( blocks, element, blockEditor, components, i18n ) {
	var el = element.createElement;
	var __ = i18n.__;

	blocks.registerBlockType( 'tastemaker/ugc', {
		edit: function ( props ) {
			var product = props.attributes.product;
			return el(
				'div',
				blockEditor.useBlockProps(),
				el(
					blockEditor.InspectorControls,
					null,
					el(
						components.PanelBody,
						{ title: __( 'Product', 'tastemaker' ) },
						el( components.TextControl, {
							label: __( 'Product ID (empty: the product being shown)', 'tastemaker' ),
							type: 'number',
							value: product ? String( product ) : '',
							onChange: function ( value ) {
								props.setAttributes( { product: parseInt( value, 10 ) || 0 } );
							},
						} )
					)
				),
				el( components.Placeholder, {
					icon: 'format-gallery',
					label: __( 'Tastemaker UGC carousel', 'tastemaker' ),
					instructions: __( 'Shows approved creator and customer content on the storefront.', 'tastemaker' ),
				} )
			);
		},
		save: function () {
			return null;
		},
	} );
} )( window.wp.blocks, window.wp.element, window.wp.blockEditor, window.wp.components, window.wp.i18n );
