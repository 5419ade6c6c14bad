/** How the model answers: the system prompt, the sampling parameters and the stop sequences. */
import { useController } from 'react-hook-form'
import { ChipsInput } from '../../components/ChipsInput'
import { PARAMS, type ParamSpec } from './form'
import { FieldMessage, useEditor, useField } from './fields'

export function PromptSection() {
  const { register } = useEditor()
  const system = useField('params.system')
  return (
    <>
      <div className="field">
        <label htmlFor={system.id}>System prompt</label>
        <textarea id={system.id} rows={6} {...system.aria} {...register('params.system')} placeholder="You are a patient SQL teacher…" />
        <p className="hint" id={system.hintId}>
          Sent as the system message of every chat with this model.
        </p>
        <FieldMessage field={system} />
      </div>

      <fieldset className="fieldset">
        <legend>Parameters</legend>
        <p className="hint">Leave a field empty to use the base model's default.</p>
        <div className="param-grid">
          {PARAMS.map((spec) => (
            <ParamField key={spec.key} spec={spec} />
          ))}
          <StopField />
        </div>
      </fieldset>
    </>
  )
}

function ParamField({ spec }: { spec: ParamSpec }) {
  const { register } = useEditor()
  const field = useField(`params.${spec.key}`)
  return (
    <div className="field">
      <label htmlFor={field.id}>{spec.label}</label>
      <input id={field.id} inputMode={spec.inputMode} autoComplete="off" placeholder={spec.placeholder} {...field.aria} {...register(`params.${spec.key}`)} />
      <p className="hint" id={field.hintId}>
        {spec.hint}
      </p>
      <FieldMessage field={field} />
    </div>
  )
}

function StopField() {
  const { control } = useEditor()
  const { field: input } = useController({ control, name: 'params.stop' })
  const field = useField('params.stop')
  return (
    <div className="field param-wide">
      <label htmlFor={field.id}>Stop sequences</label>
      <ChipsInput
        id={field.id}
        noun="stop sequence"
        splitOnComma={false}
        values={input.value}
        onChange={input.onChange}
        placeholder="Type a sequence, then Enter"
        describedBy={field.aria['aria-describedby']}
        invalid={Boolean(field.message)}
      />
      <p className="hint" id={field.hintId}>
        The model stops generating when it writes one of these.
      </p>
      <FieldMessage field={field} />
    </div>
  )
}
