/** Who the model is: its picture, its name and its id (made from the name while creating). */
import { useRef, useState } from 'react'
import { useWatch } from 'react-hook-form'
import { describeError, modelImageUrl } from '../../api/client'
import { DEFAULT_AVATAR } from '../../components/Avatar'
import { InlineError } from '../../components/States'
import { resizeImage, slugify } from '../../lib/format'
import { FieldMessage, useEditor, useField } from './fields'

export function PictureField({ model }: { model?: { id: string; updated_at: number } }) {
  const { control, setValue, clearErrors } = useEditor()
  const image = useWatch({ control, name: 'meta.profile_image_url' })
  const name = useWatch({ control, name: 'name' })
  const field = useField('meta.profile_image_url')
  const input = useRef<HTMLInputElement>(null)
  const [imageError, setImageError] = useState<string | null>(null)

  const onImage = async (file: File | undefined) => {
    if (!file) return
    setImageError(null)
    try {
      setValue('meta.profile_image_url', await resizeImage(file, 128), { shouldDirty: true })
      clearErrors('meta.profile_image_url')
    } catch (error) {
      setImageError(describeError(error).detail)
    }
  }

  // A stored picture that is a path is served by the profile-image route, versioned by updated_at.
  const src = image ? (image.startsWith('data:') || /^https?:/.test(image) ? image : model ? modelImageUrl(model.id, model.updated_at) : '') : ''
  return (
    <div className="image-field">
      {src ? (
        <img src={src} alt={`Picture of ${name || 'the model'}`} width={96} height={96} className="image-preview" />
      ) : (
        // The same default picture as the card and the server (components/Avatar.tsx).
        <img src={DEFAULT_AVATAR} alt="" width={96} height={96} className="image-preview" data-testid="default-picture" />
      )}
      <input
        ref={input}
        type="file"
        accept="image/*"
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Profile image file"
        onChange={(event) => {
          void onImage(event.target.files?.[0])
          event.target.value = ''
        }}
      />
      <div className="row">
        <button type="button" className="button button-small" onClick={() => input.current?.click()}>
          {image ? 'Change picture' : 'Choose picture'}
        </button>
        {image ? (
          <button type="button" className="button button-small" onClick={() => setValue('meta.profile_image_url', '', { shouldDirty: true })}>
            Remove picture
          </button>
        ) : null}
      </div>
      <p className="hint" id={field.hintId}>
        Scaled to at most 128 × 128 pixels in your browser.
      </p>
      <InlineError>{imageError}</InlineError>
      <FieldMessage field={field} />
    </div>
  )
}

/** Name and id. Once someone typed an id (or the model exists), the name no longer sets it. */
export function IdentitySection({ isCreate, idTouched: initiallyTouched }: { isCreate: boolean; idTouched: boolean }) {
  const { register, setValue } = useEditor()
  const [idTouched, setIdTouched] = useState(initiallyTouched)
  const name = useField('name')
  const id = useField('id')
  return (
    <>
      <div className="field">
        <label htmlFor={name.id}>Name</label>
        <input
          id={name.id}
          maxLength={512}
          required
          {...name.aria}
          {...register('name', {
            onChange: (event: { target: { value: string } }) => {
              if (isCreate && !idTouched) setValue('id', slugify(event.target.value))
            },
          })}
        />
        <FieldMessage field={name} />
      </div>
      <div className="field">
        <label htmlFor={id.id}>Model id</label>
        <input
          id={id.id}
          readOnly={!isCreate}
          maxLength={256}
          spellCheck={false}
          className="mono"
          {...id.aria}
          {...register('id', {
            onChange: () => setIdTouched(true),
          })}
        />
        <p className="hint" id={id.hintId}>
          {isCreate
            ? 'Made from the name; you may change it until the model is created. Chat clients call the model by this id.'
            : 'The id cannot change after creation.'}
        </p>
        <FieldMessage field={id} />
      </div>
    </>
  )
}
