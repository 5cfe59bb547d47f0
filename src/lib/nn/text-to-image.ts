import { tf } from '../backend/tf';
import { Rng } from '../random';
import { CascadeUNet, CascadeUNetConfig } from './cascade-unet';
import { ForwardContext, Module } from './module';
import { TextEncoder, TextEncoderConfig, TextEncoding } from './text-encoder';

/**
 * Stage I of the built-in cascade as one trainable network: the text encoder and the UNet it
 * conditions, trained together (the text encoder's parameters are named "text.*", the UNet's
 * "unet.*").
 */
export class TextToImageNet extends Module {
  readonly text: TextEncoder;
  readonly unet: CascadeUNet;

  constructor(textConfig: TextEncoderConfig, unetConfig: CascadeUNetConfig, rng: Rng) {
    super();
    if (unetConfig.pooledDim !== textConfig.pooledDim || unetConfig.contextDim !== textConfig.dim) {
      throw new Error(
        `TextToImageNet: the UNet expects pooled ${unetConfig.pooledDim} / tokens ${unetConfig.contextDim} but the text encoder gives ${textConfig.pooledDim} / ${textConfig.dim}`,
      );
    }
    this.text = this.addChild('text', new TextEncoder(textConfig, rng.fork('text')));
    this.unet = this.addChild('unet', new CascadeUNet(unetConfig, rng.fork('unet')));
  }

  /** eps_theta(x_t, t, prompt) for token ids [N * maxTokens]. */
  forward(inputs: { x: tf.Tensor4D; t: ArrayLike<number>; ids: Int32Array }, ctx: ForwardContext = { training: false }): tf.Tensor4D {
    return this.predictEncoded(inputs.x, inputs.t, this.text.forward(inputs.ids), ctx);
  }

  /** The UNet on an already computed text encoding (sampling encodes each prompt once). */
  predictEncoded(x: tf.Tensor4D, t: ArrayLike<number>, text: TextEncoding, ctx: ForwardContext = { training: false }): tf.Tensor4D {
    return this.unet.forward({ x, t, pooled: text.pooled, context: text.context }, ctx);
  }
}
